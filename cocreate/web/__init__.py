"""Templating, i18n, htmx helpers, errors, pagination and Markdown for every component."""
