"""QA end to end through the web pages (real log-in, CSRF): an admin edits a weighted form, an
evaluator draws the month's sample and scores a call on the page with the player, scores and
trends show per agent and team, and a calibration session shows the evaluators' spread."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from foundation.db import Database, utcnow
from foundation.users import create_user
from recordings.qa.rules import month_of
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.support.recording_files import make_recording


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, TEST_PASSWORD).status_code == 302
    return client


def criteria_fields(html: str) -> dict[str, str]:
    """{criterion name: select field name} from the scoring page."""
    rows = re.findall(r'<td><b>([^<]+)</b>.*?<select name="(c\d+)"', html, re.S)
    return {name: field for name, field in rows}


def score(client: FlaskClient, rid: int, points: dict[str, int], calibration: int | None = None,
          comment: str = "") -> str:
    url = f"/qa/evaluate/{rid}" + (f"?calibration={calibration}" if calibration else "")
    page = client.get(url).get_data(as_text=True)
    assert f'src="/recordings/{rid}/audio"' in page  # scored while listening
    fields = criteria_fields(page)
    assert set(fields) == set(points), fields
    data = {fields[name]: str(p) for name, p in points.items()}
    data.update(csrf_token=csrf_token(client, url), comment=comment)
    if calibration:
        data["calibration"] = str(calibration)
    resp = client.post(url, data=data, follow_redirects=True)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_qa_forms_scoring_scores_and_calibration(app: Flask, users: dict[str, str],
                                                 database: Database) -> None:
    settings = app.extensions["civic311.settings"]
    with database.session() as s:
        create_user(s, "qa2", TEST_PASSWORD, "qa")
    now = utcnow()
    this_month = month_of(now, settings.timezone)
    last_month_at = datetime.fromisoformat(this_month + "-01T12:00:00").replace(
        tzinfo=UTC) - timedelta(days=10)
    recs = {a: [make_recording(database, settings.data_dir, f"1800000000.{a}{i}",
                               now - timedelta(minutes=10 + i), agent=a,
                               queue="citywide" if a == "100" else "sanitation")
                for i in range(5)] for a in ("100", "101")}
    old = make_recording(database, settings.data_dir, "1700000000.1", last_month_at, agent="100")

    # -- the admin edits the standard form: weights, a new criterion; bad input changes nothing
    admin = client_for(app, users["admin"])
    resp = admin.post("/qa/forms", data={"name": "Standard",
                                         "csrf_token": csrf_token(admin, "/qa/forms")})
    form_url = resp.headers["Location"]
    page = admin.get(form_url).get_data(as_text=True)
    names = re.findall(r'name="name-(\d+)" value="([^"]*)"', page)
    assert [n for _, n in names] == ["Greeting", "Listening", "Accuracy of information",
                                     "Correct use of the CRM", "Closing"]
    edit = {"csrf_token": csrf_token(admin, form_url), "active": "on"}
    for i, name in names:
        edit.update({f"name-{i}": name, f"desc-{i}": "", f"weight-{i}": "10", f"max-{i}": "5"})
    edit.update({"name-1": "Listening", "weight-1": "20",
                 "name-5": "Empathy", "weight-5": "10", "max-5": "4", "desc-5": ""})
    bad = dict(edit, **{"weight-2": "heavy"})
    assert "Not saved" in admin.post(form_url, data=bad, follow_redirects=True).get_data(
        as_text=True)
    assert 'value="heavy"' not in admin.get(form_url).get_data(as_text=True)
    assert "Form saved" in admin.post(form_url, data=edit, follow_redirects=True).get_data(
        as_text=True)
    qa1 = client_for(app, users["qa"])
    assert qa1.get(form_url).status_code == 403  # only admins edit forms

    # -- the month's random sample: 2 calls per agent, from this month's recordings only
    qa1.post("/qa/sample", data={"month": this_month, "per_agent": "2",
                                 "csrf_token": csrf_token(qa1, "/qa/")})
    page = qa1.get(f"/qa/?month={this_month}").get_data(as_text=True)
    drawn = re.findall(r'data-agent="(\d+)" data-recording="(\d+)"', page)
    assert sorted(a for a, _ in drawn) == ["100", "100", "101", "101"]
    for agent, rid in drawn:
        assert int(rid) in recs[agent]
    qa1.post("/qa/sample", data={"month": this_month, "per_agent": "2",
                                 "csrf_token": csrf_token(qa1, "/qa/")})
    again = re.findall(r'data-agent="(\d+)" data-recording="(\d+)"',
                       qa1.get(f"/qa/?month={this_month}").get_data(as_text=True))
    assert sorted(again) == sorted(drawn)  # topping up an already full sample adds nothing

    # -- scoring while listening; weighted: (10*5/5 + 20*3/5 + 10*4/5 + 10*5/5 + 10*2/5
    #    + 10*4/4) / 70 = 54/70 = 77.14 %
    full = {"Greeting": 5, "Listening": 3, "Accuracy of information": 4,
            "Correct use of the CRM": 5, "Closing": 2, "Empathy": 4}
    rid100 = int(next(r for a, r in drawn if a == "100"))
    shown = score(qa1, rid100, full, comment="Read back the ticket number")
    assert '<span id="score">77.1%</span>' in shown
    bad_points = qa1.post(f"/qa/evaluate/{rid100}", data={
        "csrf_token": csrf_token(qa1, f"/qa/evaluate/{rid100}"), "c1": "9"},
        follow_redirects=True).get_data(as_text=True)
    assert "Not saved" in bad_points
    rid101 = int(next(r for a, r in drawn if a == "101"))
    score(qa1, rid101, dict.fromkeys(full, 0) | {"Listening": 5})  # 20/70 = 28.57 %
    score(qa1, old, dict.fromkeys(full, 2) | {"Empathy": 2})  # last month: 29/70 = 41.43 %
    sample_page = qa1.get(f"/qa/?month={this_month}").get_data(as_text=True)
    assert sample_page.count("<td>yes</td>") == 2

    # -- agent and team scores by month, with the trend
    page = qa1.get("/qa/scores").get_data(as_text=True)
    row100 = re.search(r'<tr data-key="100">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert f'data-month="{this_month}">77.1<' in row100
    assert "▲ +35.7" in row100  # 77.14 - 41.43
    team = re.search(r'id="team-scores">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    assert 'data-key="sanitation"' in team and '>28.6<' in team

    # -- calibration: three evaluators score the same call; the spread is shown
    cal = qa1.post("/qa/calibrations", data={
        "title": "November calibration", "recording": str(rid100),
        "form": re.search(r"/qa/forms/(\d+)", form_url).group(1),  # type: ignore[union-attr]
        "csrf_token": csrf_token(qa1, "/qa/calibrations")})
    cal_url = cal.headers["Location"]
    cid = int(cal_url.rsplit("/", 1)[1])
    score(qa1, rid100, full, calibration=cid)                                  # 77.14
    score(client_for(app, "qa2"), rid100, dict.fromkeys(full, 5) | {"Empathy": 4},
          calibration=cid)                                                      # 100.0
    score(client_for(app, users["supervisor"]), rid100,
          dict.fromkeys(full, 3) | {"Empathy": 3}, calibration=cid)             # 62.14
    twice = qa1.post(cal_url.replace(f"/qa/calibrations/{cid}", f"/qa/evaluate/{rid100}")
                     + f"?calibration={cid}", data={"csrf_token": csrf_token(qa1, cal_url)},
                     follow_redirects=True).get_data(as_text=True)
    assert "Not saved" in twice
    page = qa1.get(cal_url).get_data(as_text=True)
    assert re.search(r'data-field="n">3<', page)
    assert '<dd data-field="mean">79.8</dd>' in page  # (77.14 + 100 + 62.14) / 3
    assert '<dd data-field="range">37.9</dd>' in page  # 100 - 62.14
    assert '<dd data-field="stdev">15.6</dd>' in page
    listening = re.search(r'data-criterion="Listening">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert 'data-field="range">40.0<' in listening  # 3/5, 5/5, 3/5 -> 60..100 %
    # calibration scorings do not count in the agent's QA score
    page = qa1.get("/qa/scores").get_data(as_text=True)
    assert f'data-month="{this_month}">77.1<' in re.search(  # type: ignore[union-attr]
        r'<tr data-key="100">(.*?)</tr>', page, re.S).group(1)
