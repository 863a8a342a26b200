"""Every authentication endpoint is in the OpenAPI document, with its error answers."""

from __future__ import annotations

EXPECTED = {
    ("post", "/api/v1/auth/login"): {"200", "401", "403", "429"},
    ("post", "/api/v1/auth/refresh"): {"200", "401"},
    ("post", "/api/v1/auth/logout"): {"204", "401"},
    ("post", "/api/v1/auth/switch-tenant"): {"200", "401", "403"},
    ("get", "/api/v1/auth/me"): {"200", "401", "403"},
    ("post", "/api/v1/auth/password/change"): {"204", "401", "422", "429"},
    ("post", "/api/v1/auth/password/reset"): {"202"},
    ("post", "/api/v1/auth/password/reset/confirm"): {"204", "400", "422"},
    ("get", "/api/v1/auth/sessions"): {"200", "401"},
    ("delete", "/api/v1/auth/sessions/{session_id}"): {"204", "401", "404"},
}


def test_the_auth_endpoints_are_documented_with_their_errors(client, db):
    doc = client.get("/api/openapi.json").json()
    for (method, path), statuses in EXPECTED.items():
        operation = doc["paths"][path][method]
        assert statuses <= set(operation["responses"]), (method, path)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    assert schemes["SessionCookieAuth"]["name"] == "tessera_session"
    assert doc["paths"]["/api/v1/auth/me"]["get"]["security"]
