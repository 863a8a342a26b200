"""The page views, one module per page (views only parse, call the flows and services, render)."""
