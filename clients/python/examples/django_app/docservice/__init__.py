"""A tiny document service protected by Tessera (Django). See settings.py for configuration."""
