import sys

from benchmarks.http.cli import main

sys.exit(main(sys.argv[1:]))
