"""The image limit end to end (runtime 8.4): the agent's context keeps at most
context_config.max_image_num images; older ones reach the model as a reminder
naming the workspace file they were saved to, while the message log keeps every
image the user sent.

Each test runs for OpenAI and Anthropic against the fake provider.
"""

import base64
import hashlib

from lib.checks import check
from lib.sse import FORMATS, ChatEnv, user_texts

# A 1x1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
# A replaced image is kept in the workspace under the digest of its base64 text.
PNG_FILE = "data/" + hashlib.sha256(PNG.encode()).hexdigest() + ".png"
OFFLOADED = (f"<system-reminder>The image is offloaded into workspace:///{PNG_FILE}, "
             "you can refer to it when needed.</system-reminder>")


def image(name=None):
    block = {"type": "data", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    if name:
        block["name"] = name
    return block


def images_sent(req):
    """Image parts of a provider request, whatever the wire format."""
    count = 0

    def walk(v):
        nonlocal count
        if isinstance(v, dict):
            if v.get("type") in ("image_url", "image"):
                count += 1
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk((req.get("body") or {}).get("messages"))
    return count


def post_images(env, text, n):
    r = env.post_chat(input_={"name": "user", "role": "user",
                              "content": [{"type": "text", "text": text}] + [image() for _ in range(n)]})
    check(r.status == 200, f"POST /chat/ with {n} images: {r.status} {r.body[:200]}")


def _limit(srv, fmt):
    env = ChatEnv(srv, fmt, user=f"images-{fmt}")
    try:
        r = srv.patch(f"/agent/{env.agent_id}", json={"context_config": {"max_image_num": 2}}, user=env.user)
        check(r.status == 200, f"PATCH context_config: {r.status} {r.body[:200]}")
        check(r.json()["data"]["context_config"]["max_image_num"] == 2, f"{r.json()['data']['context_config']}")

        # Within the limit: both images reach the model.
        env.script([{"text": "Two pictures."}])
        s = env.stream()
        post_images(env, "Look at these", 2)
        env.collect(s, env.wait_reply_start(s))
        reqs = env.wait_requests(1, finished=True)
        check(images_sent(reqs[0]) == 2, f"first turn sent {images_sent(reqs[0])} images")

        # Two more: the two oldest are replaced by reminders in what the model sees.
        env.fake.reset()
        env.script([{"text": "Four pictures, two kept."}])
        post_images(env, "And these", 2)
        env.collect(s, env.wait_reply_start(s))
        reqs = env.wait_requests(1, finished=True)
        check(images_sent(reqs[0]) == 2, f"second turn sent {images_sent(reqs[0])} images")
        texts = "\n".join(user_texts(reqs[0]))
        check(texts.count(OFFLOADED) == 2, f"reminders the model saw: {texts.count(OFFLOADED)} in {texts[:400]!r}")
        first_user = [t for t in user_texts(reqs[0]) if "Look at these" in t]
        check(first_user and first_user[0].count(OFFLOADED) == 2,
              f"the reminders replace the first message's images: {first_user}")
        # The file they name holds the image.
        r = srv.get(f"/workspace/files?agent_id={env.agent_id}&session_id={env.session_id}&path={PNG_FILE}",
                    user=env.user)
        check(r.status == 200 and r.body == base64.b64decode(PNG),
              f"GET {PNG_FILE}: {r.status} {r.body[:80]!r}")

        # The message log keeps what the user sent.
        msgs = env.messages()["messages"]
        users = [m for m in msgs if m["role"] == "user"]
        check([sum(b["type"] == "data" for b in m["content"]) for m in users] == [2, 2],
              f"images in the log: {[[b['type'] for b in m['content']] for m in users]}")
    finally:
        env.close()


for _fmt in FORMATS:
    globals()[f"test_limit_{_fmt}"] = (lambda fmt: (lambda srv: _limit(srv, fmt)))(_fmt)
del _fmt
