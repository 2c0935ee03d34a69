import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torch.nn import functional

from asc_edge.train.models import BCResNetMod, ModelConfig, ResNorm
from asc_edge.train.size import model_size


@pytest.mark.parametrize(("n_mels", "n_frames"), [(256, 431), (40, 157), (40, 32)])
def test_forward_shape(n_mels: int, n_frames: int) -> None:
    model = BCResNetMod(ModelConfig(width=16, n_mels=n_mels)).eval()
    assert model(torch.randn(3, 1, n_mels, n_frames)).shape == (3, 10)


def test_width_80_has_the_papers_315k_parameters() -> None:
    size = model_size(BCResNetMod(ModelConfig(width=80)), (1, 1, 256, 431))
    assert abs(size.parameters - 315_000) / 315_000 < 0.01


def test_instance_resnorm_is_lambda_x_plus_instance_norm() -> None:
    x = torch.randn(2, 3, 20, 30)
    expected = 0.1 * x + functional.instance_norm(x, eps=1e-5)
    torch.testing.assert_close(ResNorm("instance", 0.1)(x), expected, atol=1e-5, rtol=1e-5)


def test_frequency_resnorm_removes_a_per_frequency_device_offset() -> None:
    # A static device response is a per-frequency offset in the log-mel domain.
    x = torch.randn(2, 1, 40, 50)
    offset = torch.linspace(-6, 6, 40).reshape(1, 1, 40, 1)
    norm = ResNorm("frequency", 0.1)
    torch.testing.assert_close(norm(x + offset) - 0.1 * (x + offset), norm(x) - 0.1 * x, atol=1e-4, rtol=1e-4)


def test_ablation_modes_and_bad_mode() -> None:
    x = torch.randn(4, 8, 5, 6)
    assert torch.equal(ResNorm("none")(x), x)
    assert isinstance(ResNorm("batch", channels=8).batch_norm, torch.nn.BatchNorm2d)
    with pytest.raises(ValueError):
        ResNorm("layer")


def test_onnx_export_matches_pytorch_without_instance_norm_op(tmp_path) -> None:
    torch.manual_seed(0)
    model = BCResNetMod(ModelConfig(width=16, n_mels=40)).eval()
    x = torch.randn(1, 1, 40, 157)
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17, input_names=["logmel"],
                      output_names=["logits"])
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph, full_check=True)
    assert "InstanceNormalization" not in {node.op_type for node in graph.graph.node}
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {"logmel": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(onnx_out, model(x).numpy(), atol=1e-4)


def test_instance_resnorm_removes_a_clip_gain_except_through_the_lambda_path() -> None:
    # A device gain is a constant offset on log-mels: the InstanceNorm part must ignore it entirely.
    x = torch.randn(2, 1, 40, 50)
    norm = ResNorm("instance", 0.1)
    shifted = norm(x + 7.5)
    torch.testing.assert_close(shifted - norm(x), torch.full_like(x, 0.1 * 7.5), atol=1e-4, rtol=0)
