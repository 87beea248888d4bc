"""The form a browser would submit, read from a page's HTML: for the tests and tools/probe.py
(plain standard library, so the probe needs no test tools to use it)."""

from html.parser import HTMLParser


class Forms(HTMLParser):
    """Every form of a page as the name/value pairs a browser submits (no JavaScript)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.select, self.textarea = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1].append(
                [a["name"], a.get("value", "y" if a.get("type") == "checkbox" else "")]
            )
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None]
        elif tag == "option" and self.select is not None:
            if self.select[1] is None or "selected" in a:
                self.select[1] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self.select is not None:
            self.forms[-1].append([self.select[0], self.select[1] or ""])
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.forms[-1].append([self.textarea[0], self.textarea[1].lstrip("\n")])
            self.textarea = None


def form_fields(html: str, form_index: int = -1) -> list[tuple[str, str]]:
    """The name/value pairs a browser would submit for one form on the page (no JavaScript)."""
    parser = Forms()
    parser.feed(html)
    return [tuple(pair) for pair in parser.forms[form_index]]
