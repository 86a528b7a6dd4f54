"""devtools/aws_calls.py counts the calls a function can reach, not every call of the modules it imports."""

from __future__ import annotations

from pathlib import Path

from devtools.aws_calls import calls_of_function

QUEUE_MODULE = """
import boto3

def _client():
    return boto3.client("sqs")

def send(body):
    return _client().send_message(QueueUrl=get_settings().queue_url, MessageBody=body)

def purge():
    return getattr(_client(), "purge_queue")(QueueUrl="q")
"""


def write_function(root: Path, app_source: str) -> tuple[Path, Path]:
    code_dir, layer = root / "function", root / "layer"
    (layer / "shared").mkdir(parents=True)
    (layer / "shared" / "__init__.py").write_text("")
    (layer / "shared" / "queue.py").write_text(QUEUE_MODULE)
    code_dir.mkdir()
    (code_dir / "app.py").write_text(app_source)
    return code_dir, layer


def test_a_called_definition_brings_its_calls_and_an_imported_one_does_not(tmp_path: Path) -> None:
    # Given a function that imports both queue helpers but calls only `send`
    code_dir, layer = write_function(
        tmp_path, "from shared.queue import send, purge\n\ndef handler(event, context):\n    send('x')\n"
    )

    # When its calls are read
    calls = calls_of_function(code_dir, [layer])

    # Then SendMessage is found, PurgeQueue (named as a string, only in `purge`) is not
    assert calls.actions == {"sqs:SendMessage"}
    assert calls.modules == {"app", "shared", "shared.queue"}


def test_an_operation_named_as_a_string_is_a_call(tmp_path: Path) -> None:
    code_dir, layer = write_function(
        tmp_path, "from shared import queue\n\ndef handler(event, context):\n    queue.purge()\n"
    )

    assert calls_of_function(code_dir, [layer]).actions == {"sqs:PurgeQueue"}
