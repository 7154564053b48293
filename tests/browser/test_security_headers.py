"""The gateway's security headers, as a real Chromium applies them."""

from tests.browser.conftest import DESKTOP


def _framed(browser, url: str):
    """Open a page of another origin that frames `url`; the child frame, once it settled."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.set_content(f'<iframe src="{url}" onload="document.body.dataset.framed = 1"></iframe>')
    page.wait_for_function("() => document.body.dataset.framed === '1'")
    return context, page.frames[1], messages


def test_another_site_cannot_frame_the_shop(browser, local_stack):
    context, frame, messages = _framed(browser, local_stack.url + "/")
    try:
        assert frame.locator("#product-grid").count() == 0
        assert frame.url != local_stack.url + "/"  # Chromium's error page stands in
        assert any("frame-ancestors" in message for message in messages), messages
    finally:
        context.close()
