"""Reads a feed the way feed readers do, for Vigie's tests.

Usage: feed_check.py FILE KIND, where KIND is `xml` (Atom or RSS, parsed
with feedparser), `json` (JSON Feed, validated against the schema in
tests/fixtures/schemas) or `ics` (iCalendar, parsed with icalendar).
Prints one JSON object describing what was read; exits 1 when the input
is not valid.
"""
import json
import pathlib
import sys


def xml(path):
    import feedparser

    d = feedparser.parse(path)
    return {
        "bozo": int(d.bozo),
        "bozo_exception": str(d.get("bozo_exception", "")),
        "version": d.version,
        "title": d.feed.get("title"),
        "language": d.feed.get("language"),
        "links": [l.get("href") for l in d.feed.get("links", [])],
        "entries": [
            {
                "id": e.get("id"),
                "title": e.get("title"),
                "link": e.get("link"),
                "updated": e.get("updated"),
                "content": (e.get("content") or [{}])[0].get("value") or e.get("summary"),
                "tags": [t.get("term") for t in e.get("tags", [])],
            }
            for e in d.entries
        ],
    }


def json_feed(path):
    import jsonschema

    schema_path = pathlib.Path(__file__).parent / "fixtures/schemas/jsonfeed-1.1.json"
    schema = json.loads(schema_path.read_text())
    doc = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    return {"valid": not errors, "errors": errors, "items": doc.get("items", [])}


def ics(path):
    import icalendar

    cal = icalendar.Calendar.from_ical(pathlib.Path(path).read_bytes())
    events = []
    zones = []
    for c in cal.walk():
        if c.name == "VTIMEZONE":
            zones.append(str(c.get("TZID")))
        if c.name == "VEVENT":
            start = c.get("DTSTART")
            events.append(
                {
                    "uid": str(c.get("UID")),
                    "summary": str(c.get("SUMMARY")),
                    "description": str(c.get("DESCRIPTION")),
                    "start": start.dt.isoformat() if start else None,
                    "tzid": start.params.get("TZID") if start else None,
                    "all_day": bool(start) and not hasattr(start.dt, "hour"),
                    "alarms": [str(a.get("TRIGGER").to_ical(), "ascii") for a in c.walk("VALARM")],
                }
            )
    return {"name": str(cal.get("X-WR-CALNAME")), "timezones": zones, "events": events}


if __name__ == "__main__":
    path, kind = sys.argv[1], sys.argv[2]
    try:
        out = {"xml": xml, "json": json_feed, "ics": ics}[kind](path)
    except Exception as e:  # reported to the test, which fails with it
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
    print(json.dumps(out, ensure_ascii=False))
