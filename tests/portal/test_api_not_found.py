"""An address under /api/ that nothing serves answers CONTRACT's JSON error, also with DEBUG on (the test default)."""

from http import HTTPStatus

import pytest


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/proposals/1/nope", "/api/", "/api/v3/anything"])
def test_an_unknown_api_address_is_a_json_404_never_the_debug_page(client, db, settings, path):
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "There is nothing at this address."}
