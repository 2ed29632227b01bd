"""Device and precision choice (service/engines/devices.py)."""

import pytest
import torch

from service.engines.base import ArgumentError
from service.engines.devices import pick_device, pick_dtype


def test_choosing_cuda_turns_off_cudnn_attention(monkeypatch):
    """cuDNN attention builds a plan per new key length, i.e. at every decoding step (see pick_device)."""
    assert torch.backends.cuda.cudnn_sdp_enabled()  # torch's default
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    try:
        assert pick_device("cpu").type == "cpu" and torch.backends.cuda.cudnn_sdp_enabled()
        assert pick_device("auto").type == "cuda" and not torch.backends.cuda.cudnn_sdp_enabled()
    finally:
        torch.backends.cuda.enable_cudnn_sdp(True)


def test_bad_devices_and_dtypes_name_the_argument():
    with pytest.raises(ArgumentError, match="cuda") as caught:
        pick_device("tpu")
    assert caught.value.argument == "device"
    with pytest.raises(ArgumentError) as caught:
        pick_dtype("fp8", torch.device("cpu"))
    assert caught.value.argument == "dtype"
    assert (
        pick_dtype("auto", torch.device("cpu")) == torch.float32
        and pick_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    )
