"""The browsable API docs render with our strict CSP: Swagger UI comes from our static files, not a CDN."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_api_docs_render_the_operations(live_url, new_page):
    page = new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(live_url + "/api/v1/docs")
    expect(page.get_by_text("DAO Portal API").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/proposals/{number}/votes").first).to_be_visible()
    assert refused == []
