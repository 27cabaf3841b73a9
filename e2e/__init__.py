"""Browser tests (Playwright) against a live cocreate server; one module per user journey."""
