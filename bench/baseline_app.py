"""The benchmark's baseline: a minimal Django view doing one upsert (not part of the product).

One statement through Django's connection (the ORM would need two lookups before its upsert, so
this is the stricter baseline), no middleware, served by gunicorn with sync workers and
persistent connections: the fastest way to serve plain Django on this machine.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

UPSERT = """
INSERT INTO delivery_response
    (attempt_id, item_id, content, seq, flagged, server_saved_at, late)
SELECT a.id, i.id, %s::jsonb, %s, false, now(), false
FROM delivery_attempt a JOIN exams_item i ON i.public_id = %s
WHERE a.public_id = %s
ON CONFLICT (attempt_id, item_id) DO UPDATE SET content = excluded.content, seq = excluded.seq
WHERE delivery_response.seq < excluded.seq
"""


@csrf_exempt
def save(request, attempt):
    body = json.loads(request.body)
    entry = body["saves"][0]
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [json.dumps(entry["content"]), entry["seq"], entry["item"], attempt])
    return JsonResponse({"acked": [{"item": entry["item"], "seq": entry["seq"]}]})


def health(request):
    return HttpResponse("ok")
