"""Checks Vigie's OpenAPI document and real answers against it, for tests.

Usage: openapi_check.py SPEC [PATH STATUS BODY]...

Validates SPEC (JSON) as an OpenAPI 3.1 document with
openapi-spec-validator, then each BODY file (a real response body of
`GET PATH` with that STATUS) against the JSON schema the document gives
for it, with jsonschema (Draft 2020-12, the dialect of OpenAPI 3.1).
Prints a JSON report; exits 1 when anything is invalid.
"""
import json
import pathlib
import sys


def operation(spec, path):
    """The GET operation whose templated path matches `path`."""
    for template, item in spec["paths"].items():
        t = template.strip("/").split("/")
        p = path.split("?")[0].strip("/").split("/")
        if len(t) == len(p) and all(a == b or a.startswith("{") for a, b in zip(t, p)):
            return item.get("get")
    return None


def main():
    import jsonschema
    from openapi_spec_validator import validate

    spec = json.loads(pathlib.Path(sys.argv[1]).read_text())
    report = {"spec_errors": [], "results": []}
    try:
        validate(spec)
    except Exception as e:  # the validator's own error types
        report["spec_errors"].append(str(e)[:2000])
    if spec.get("openapi", "").split(".")[:2] != ["3", "1"]:
        report["spec_errors"].append(f"not OpenAPI 3.1: {spec.get('openapi')}")
    args = sys.argv[2:]
    for i in range(0, len(args), 3):
        path, status, body = args[i], args[i + 1], pathlib.Path(args[i + 2]).read_text()
        result = {"path": path, "status": status, "errors": []}
        op = operation(spec, path)
        response = (op or {}).get("responses", {}).get(status)
        if response is None:
            result["errors"].append("no such operation or status in the document")
        else:
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                result["errors"].append("the document gives no JSON schema for it")
            else:
                root = dict(schema)
                root["components"] = spec.get("components", {})
                validator = jsonschema.Draft202012Validator(
                    root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
                )
                result["errors"] = [
                    f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300]
                    for e in validator.iter_errors(json.loads(body))
                ]
        report["results"].append(result)
    print(json.dumps(report, ensure_ascii=False))
    ok = not report["spec_errors"] and all(not r["errors"] for r in report["results"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
