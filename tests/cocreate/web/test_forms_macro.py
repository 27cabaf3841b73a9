"""The accessible form macros tie labels, hints and errors to their fields."""

from __future__ import annotations

from cocreate.i18n import using_locale
from cocreate.web.templating import make_environment

TEMPLATE = """{% import "macros/forms.html" as forms with context %}
{{ forms.error_summary(errors) }}
{{ forms.field("email", "E-mail", value=value, type="email", errors=errors, hint="We never show it.", required=True) }}
{{ forms.textarea("body", "Body", value=value, errors=errors) }}
{{ forms.select("kind", "Kind", [("a", "A"), ("b", "B <b>")], value="b", errors=errors) }}"""


def render(**context: object) -> str:
    return make_environment().from_string(TEMPLATE).render(**context)


def test_field_with_error_is_described_and_marked_invalid() -> None:
    with using_locale("ja"):
        html = render(errors={"email": "メールアドレスの形式が正しくありません"}, value='"><script>x</script>')
    assert '<label for="field-email">E-mail <span class="required">（必須）</span></label>' in html
    assert 'aria-describedby="field-email-hint field-email-error"' in html
    assert 'aria-invalid="true"' in html and html.count('aria-invalid="true"') == 1
    assert '<p class="field-error" id="field-email-error">メールアドレスの形式が正しくありません</p>' in html
    # The error summary links to the field and is announced.
    assert 'role="alert"' in html and '<a href="#field-email">' in html and "入力内容に問題があります" in html
    # Values are escaped in attributes and in textarea bodies.
    assert "<script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "B &lt;b&gt;" in html and '<option value="b" selected>' in html


def test_field_without_error_has_no_summary_and_no_invalid_mark() -> None:
    with using_locale("en"):
        html = render(errors={}, value="")
    assert "error-summary" not in html
    assert "aria-invalid" not in html
    assert 'aria-describedby="field-email-hint"' in html
    assert "(required)" in html
