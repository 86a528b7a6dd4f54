"""The context object a Python Lambda handler receives as its second argument."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "us-east-1"


class LambdaContext:
    """Mirror of the runtime's context, including what AWS Lambda Powertools reads."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(self, function_name: str, memory_limit_in_mb: int, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[{self.function_version}]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
