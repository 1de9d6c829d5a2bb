"""The OpenAPI document declares what every operation can answer (the walk in test_every_route
checks that every answer it gets is declared)."""

from yizhan.api import api

SCHEMA = api.get_openapi_schema(path_prefix="/api/v1/")


def operations():
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def declared(operation) -> set[int]:
    return {int(status) for status in operation["responses"]}


def test_every_operation_with_input_declares_422():
    missing = [
        name
        for name, operation in operations()
        if (operation.get("parameters") or operation.get("requestBody")) and 422 not in declared(operation)
    ]
    assert not missing


def test_every_operation_declares_what_the_boundary_and_the_auth_can_answer():
    for name, operation in operations():
        statuses = declared(operation)
        assert {400, 422} <= statuses, name
        if operation.get("requestBody"):
            assert 413 in statuses, name
        if operation.get("security"):
            assert {401, 403, 404} <= statuses, name
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert 404 in statuses, name


def test_the_tallies_endpoint_declares_its_422_with_the_field_errors_shape():
    responses = SCHEMA["paths"]["/api/v1/manage/stations/{code}/tallies/{day}"]["put"]["responses"]
    schema = responses[422]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert SCHEMA["components"]["schemas"][schema]["properties"]["detail"]["type"] == "array"


def test_every_429_declares_its_retry_after_header():
    limited = [(name, op) for name, op in operations() if 429 in declared(op)]
    assert limited  # the check-in and report endpoints are rate-limited
    for name, operation in limited:
        responses = {int(status): spec for status, spec in operation["responses"].items()}
        assert responses[429]["headers"]["Retry-After"]["schema"]["type"] == "integer", name
