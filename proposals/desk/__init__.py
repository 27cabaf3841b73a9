"""The support desk (代理入力): ward staff at community centres record residents' voices and opinions on their
behalf, one at a time or a workshop's worth at once (a form of many rows, or a CSV file with a preview), and
print A4 sheets with a QR code for any challenge or voice."""
