"""The API's OpenAPI document: generated from the code, valid, complete, readable as a page."""

from html import unescape

import pytest
from openapi_spec_validator import validate

from tests.helpers import text


def _spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.sqlite
def test_the_document_validates_and_declares_the_token(client):
    spec = _spec(client)
    validate(spec)  # raises on an invalid OpenAPI document
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "fundapp API"
    assert spec["info"]["version"] == "v1"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


@pytest.mark.sqlite
def test_every_route_under_api_v1_is_documented_with_its_errors(app, client):
    spec = _spec(client)
    documented = {path for path in spec["paths"]}
    routes = {
        rule.rule.replace("<int:", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api_v1.")
    }
    assert routes, "no API route found"
    assert routes == documented
    # Only the document and its page stand outside it.
    others = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")} - {
        r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api_v1.")
    }
    assert others == {"/api/v1/openapi.json", "/api/v1/docs"}
    for path, item in spec["paths"].items():
        assert set(item) - {"parameters"} == {"get"}, path  # read-only
        op = item["get"]
        responses = op["responses"]
        assert "200" in responses and "401" in responses and "429" in responses, path
        for code in ("400", "401", "404", "429"):
            if code in responses:
                assert responses[code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ApiError"
                }, (path, code)
        if "{" in path:
            assert "404" in responses, path
        if any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "400" in responses, path
        public = path.startswith("/api/v1/calls") and "review-summary" not in path
        public = public or path.startswith("/api/v1/funded-projects")
        assert ({} in op["security"]) == public, path


@pytest.mark.sqlite
def test_the_readable_page_lists_each_operation_and_links_the_document(client):
    spec = _spec(client)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = unescape(text(response))
    assert 'href="/api/v1/openapi.json"' in page
    for path, item in spec["paths"].items():
        assert f"GET {path}" in page
        assert item["get"]["summary"] in page
    assert "Authorization: Bearer" in page
    assert "per_page" in page
    assert '<script src="http' not in page  # nothing from elsewhere


@pytest.mark.sqlite
def test_html_error_pages_of_the_site_stay_html_and_the_api_answers_json(client):
    page = client.get("/calls/NOPE-0000")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["status"] == 404
    wrong_method = client.http.post("/api/v1/calls")
    assert wrong_method.status_code in (400, 405)  # CSRF may answer first; either way JSON
    assert wrong_method.mimetype == "application/json"
