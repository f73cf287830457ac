"""Plain HTTP through the ASGI application: Django's WSGI handler in a bounded thread pool."""

import asyncio
import re

import httpx
import pytest

from provplattform import sync_http
from provplattform.asgi import application

GENERIC = "The login details or the day password are not right"


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )


@pytest.mark.django_db(transaction=True)
def test_login_page_and_a_refused_login_over_asgi():
    async def run():
        async with _client() as client:
            page = await client.get("/student/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            refused = await client.post(
                "/student/",
                data={"csrfmiddlewaretoken": token, "username": "nobody", "password": "x"},
                headers={"Referer": "http://testserver/student/"},
            )
            forged = await client.post("/student/", data={"username": "nobody"})
            return page, refused, forged

    page, refused, forged = asyncio.run(run())
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert refused.status_code == 401 and GENERIC in refused.text
    assert forged.status_code == 403  # CSRF is still checked


def test_environ_carries_the_body_length_when_the_client_sent_none():
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/student/å",
        "root_path": "",
        "query_string": b"a=1",
        "headers": [(b"content-type", b"text/plain"), (b"x-device-token", b"t")],
        "client": ("10.0.0.5", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "https",
    }
    environ = sync_http.build_environ(scope, body=None, length=5)
    assert environ["CONTENT_LENGTH"] == "5" and environ["CONTENT_TYPE"] == "text/plain"
    assert environ["HTTP_X_DEVICE_TOKEN"] == "t" and environ["REMOTE_ADDR"] == "10.0.0.5"
    assert environ["PATH_INFO"] == "/student/å".encode().decode("latin1")
    assert environ["wsgi.url_scheme"] == "https" and environ["QUERY_STRING"] == "a=1"


def test_streamed_answers_are_sent_chunk_by_chunk():
    from django.http import StreamingHttpResponse

    class Handler:
        def __call__(self, environ, start_response):
            response = StreamingHttpResponse(iter([b"one", b"two"]))
            start_response("200 OK", list(response.items()))
            return response

    sent = []

    async def send(message):
        sent.append(message)

    async def run():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, sync_http.SyncDjango._run, Handler(), {}, loop, send
        )

    assert asyncio.run(run()) is None
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert [m.get("body") for m in sent[1:]] == [b"one", b"two", b""]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bridge", ["threadpool", "a2wsgi"])
def test_either_bridge_serves_pages_and_keeps_csrf(settings, bridge):
    settings.WEB_HTTP_BRIDGE = bridge
    app = sync_http.http_bridge(threads=2)
    assert isinstance(app, sync_http.SyncDjango) == (bridge == "threadpool")

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            page = await client.get("/student/")
            forged = await client.post("/student/", data={"username": "nobody"})
            return page, forged

    page, forged = asyncio.run(run())
    assert page.status_code == 200 and "csrftoken" in page.cookies
    assert forged.status_code == 403
