"""The pages every public site has (terms, privacy, about, help, accessibility, contact), edited by admins."""
