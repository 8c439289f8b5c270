"""The GraphQL house rules answer abuse with errors, not work."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ELDER, Api


async def test_too_deep_a_query_is_refused(api: Api) -> None:
    token = await api.sign_in(ELDER)
    deep = "{ me { household { community { id } } familyLinks { nodes { elder { id } } } } }"
    assert "errors" not in await api.gql(deep, token=token)
    # Nest well past the limit through fragments on the same types.
    nested = "{ me { " + "familyLinks { nodes { " * 6 + "id" + " } }" * 6 + " } }"
    result = await api.gql(nested, token=token)
    assert result["data"] is None
    assert "exceeds maximum operation depth" in result["errors"][0]["message"]


async def test_too_many_aliases_are_refused(api: Api) -> None:
    token = await api.sign_in(ELDER)
    query = "{ " + " ".join(f"a{i}: home {{ greeting {{ text }} }}" for i in range(20)) + " }"
    result = await api.gql(query, token=token)
    assert result["data"] is None
    assert "aliases" in result["errors"][0]["message"]


async def test_too_many_tokens_are_refused(api: Api) -> None:
    query = "{ me { " + " ".join(["id"] * 2500) + " } }"
    result = await api.gql(query)
    assert result["data"] is None
    assert "token" in result["errors"][0]["message"].lower()


async def test_batched_requests_are_refused(api: Api) -> None:
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = await api.client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert "batch" in response.text.lower()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"query": "{ __typename }"}'),
        ("application/x-www-form-urlencoded", "query=%7B__typename%7D"),
        ("application/graphql", "{ __typename }"),
    ],
)
async def test_only_json_bodies_are_accepted(api: Api, content_type: str, body: str) -> None:
    response = await api.client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code in (400, 415)
    assert "__typename" not in response.text or "errors" in response.text


async def test_queries_and_mutations_over_get_are_refused(api: Api) -> None:
    query = await api.client.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "application/json"})
    assert query.status_code in (400, 405)
    mutation = await api.client.get(
        "/graphql",
        params={"query": 'mutation { requestLoginCode(phone: "13800000001") { __typename } }'},
        headers={"accept": "application/json"},
    )
    assert mutation.status_code in (400, 405)
    sent = await api.client.get("/dev/outbox", params={"to": ELDER})
    assert sent.json()["messages"] == []  # nothing happened


async def test_an_oversized_body_is_refused_before_parsing(api: Api) -> None:
    payload = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 70_000}})
    response = await api.client.post("/graphql", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BODY_TOO_LARGE"


async def test_malformed_input_never_gives_a_500(api: Api) -> None:
    token = await api.sign_in(ELDER)
    cases = [
        ('{ person(id: "abc") { id } }', "INVALID_INPUT"),
        ('{ person(id: "-4") { id } }', "INVALID_INPUT"),
        ('{ familyLinks(after: "!!!") { nodes { id } } }', "INVALID_INPUT"),
        ('mutation { revokeFamilyLink(linkId: "x") { __typename ... on UserError { code } } }', None),
    ]
    for query, code in cases:
        response = await api.post(query, token=token)
        assert response.status_code == 200, query
        body = response.json()
        if code:
            assert body["errors"][0]["extensions"]["code"] == code, body
        else:
            assert body["data"]["revokeFamilyLink"]["code"] == "INVALID_INPUT", body
    garbage = await api.client.post("/graphql", content="{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 400
