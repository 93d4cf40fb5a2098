"""A gradient's generated code as HTML, for Jupyter (``GradFunction._repr_html_``)."""
import html

MONOSPACE = ("ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', "
             "'DejaVu Sans Mono', monospace")


def html_block(header, source):
    """A gradient's code as HTML for Jupyter: a bold header and the highlighted code.

    The code carries its own monospace font (inline styles), so it stays
    monospaced in any HTML export, whatever stylesheet the page has.
    """
    pre_style = f"font-family: {MONOSPACE}; font-size: 0.9em; line-height: 125%; white-space: pre"
    try:  # pygments is optional
        from pygments import highlight  # lazy: pygments is optional
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
        body = highlight(source, PythonLexer(), HtmlFormatter(noclasses=True, prestyles=pre_style))
    except ImportError:
        body = f'<pre style="{pre_style}">{html.escape(source)}</pre>'
    return (f'<div class="knetc-gradient"><p><b>{html.escape(header)}</b></p>'
            f'<div style="font-family: {MONOSPACE}">{body}</div></div>')
