"""Folding, pruning, QAT and distillation building blocks, checked numerically."""

import numpy as np
import onnxruntime
import pytest
import torch

from asc_edge.plumbing.errors import ConfigError
from asc_edge.train.distill import distillation_loss
from asc_edge.train.fold import BandAffine, fold_subspectral_norms
from asc_edge.train.int8_sim import Int8Simulation
from asc_edge.train.int8_sim import fake_quant_weight as fake_quantize_weight
from asc_edge.train.models import BCResNetMod, ModelConfig
from asc_edge.train.presets import PRESETS, preset_config
from asc_edge.train.prune import apply_masks, magnitude_masks, prune_channels
from asc_edge.train.size import model_size


def _randomised(config: ModelConfig, seed: int = 0) -> BCResNetMod:
    """A model with non-trivial norm statistics, as after training (fresh BNs are the identity)."""
    torch.manual_seed(seed)
    model = BCResNetMod(config)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(-1.5, 1.5)
            module.bias.data.normal_(0, 0.5)
            module.running_mean.normal_(0, 0.5)
            module.running_var.uniform_(0.01, 3.0)
    return model.eval()


@pytest.mark.parametrize("sub_bands", [4, 2, 1])
def test_subspectral_norm_folding_is_exact_in_float(sub_bands: int) -> None:
    model = _randomised(ModelConfig(width=12, n_mels=64, sub_bands=sub_bands))
    folded = fold_subspectral_norms(model)
    x = torch.randn(3, 1, 64, 40)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), atol=1e-4, rtol=1e-4)
    ssn_kinds = {type(block.ssn).__name__ for stage in folded.stages for block in stage if hasattr(block, "ssn")}
    assert ssn_kinds == ({"Identity"} if sub_bands == 1 else {"BandAffine"})
    for module in folded.modules():  # the per-band remainder never exceeds 1 in magnitude
        if isinstance(module, BandAffine):
            assert float(module.ratio.abs().max()) <= 1.0 + 1e-6
    assert any(isinstance(m, torch.nn.modules.batchnorm.BatchNorm2d) for m in model.modules())  # original kept


def test_preset_parameter_counts() -> None:
    counts = {name: model_size(BCResNetMod(preset_config(name, 256, 10)), (1, 1, 256, 431)).parameters
              for name in PRESETS}
    assert abs(counts["teacher"] - 315_000) / 315_000 < 0.01
    # student and tiny are sized by their int8 files (see presets.py); these counts pin that design
    assert counts == {"teacher": 314_970, "student": 20_935, "tiny": 9_358, "max": 93_943}
    assert PRESETS["max"].max_tflite_bytes == 128_000
    assert PRESETS["student"].max_tflite_bytes == 96_000 and PRESETS["tiny"].max_tflite_bytes == 64_000


def test_unknown_preset_and_too_few_mels_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_config("huge", 40, 10)
    with pytest.raises(ConfigError, match="mel bands"):
        preset_config("student", 4, 10)


def test_structured_pruning_of_nothing_is_the_identity() -> None:
    model = _randomised(ModelConfig(width=12, n_mels=40))
    pruned = prune_channels(model, 0.0).eval()
    x = torch.randn(2, 1, 40, 32)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), model(x))


def test_structured_pruning_shrinks_every_stage_and_exports(tmp_path) -> None:
    model = _randomised(ModelConfig(width=16, n_mels=40))
    pruned = prune_channels(model, 0.5).eval()
    stem, widths = pruned.config.channels()
    assert (stem, widths) == (16, (8, 12, 16, 20))
    before = model_size(model, (1, 1, 40, 32)).parameters
    after = model_size(pruned, (1, 1, 40, 32)).parameters
    assert after < 0.4 * before  # pointwise convs shrink quadratically
    x = torch.randn(1, 1, 40, 32)
    path = tmp_path / "pruned.onnx"
    torch.onnx.export(pruned, (x,), str(path), dynamo=False, opset_version=17, input_names=["x"])
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], pruned(x).numpy(), atol=1e-4)


def test_structured_pruning_keeps_the_strongest_channels() -> None:
    model = _randomised(ModelConfig(width=8, n_mels=40))
    stage0 = model.stages[0]
    with torch.no_grad():  # make channel 5 of stage 1 the only strong one in every norm of the stage
        for block in stage0[:2]:
            for bn in (block.ssn.bn, block.temporal[1]) + ((block.expand[1],) if block.transition else ()):
                bn.weight.fill_(0.01)
            block.ssn.bn.weight.view(8, -1)[5] = 3.0
            block.temporal[1].weight[5] = 3.0
    pruned = prune_channels(model, 0.875)  # keep 1 of 8
    assert pruned.config.channels()[1][0] == 1
    torch.testing.assert_close(pruned.stages[0][0].temporal[0].weight[0], model.stages[0][0].temporal[0].weight[5])


def test_magnitude_pruning_reaches_the_sparsity_and_masks_keep_zeros() -> None:
    model = _randomised(ModelConfig(width=12, n_mels=40)).train()
    masks = magnitude_masks(model, 0.6)
    total = sum(m.numel() for m in masks.values())
    zeros = sum(int((~m).sum()) for m in masks.values())
    assert abs(zeros / total - 0.6) < 0.01
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 1, 40, 32)).sum().backward()
    optimizer.step()
    apply_masks(model, masks)
    params = dict(model.named_parameters())
    assert all(int(params[name][~mask].abs().sum()) == 0 for name, mask in masks.items())


def test_fake_quantised_weights_are_on_the_per_channel_int8_grid() -> None:
    weight = torch.randn(6, 1, 3, 3) * torch.tensor([0.01, 0.1, 1, 2, 5, 50]).reshape(6, 1, 1, 1)
    quantised = fake_quantize_weight(weight)
    scale = weight.abs().amax(dim=(1, 2, 3), keepdim=True) / 127
    levels = quantised / scale
    torch.testing.assert_close(levels, levels.round(), atol=1e-3, rtol=0)
    assert float((quantised - weight).abs().div(scale).max()) <= 0.5 + 1e-4
    # equivariance: scaling a channel (a folded BatchNorm) scales its quantised weights the same way
    gamma = torch.tensor([0.5, 2, 3, 0.1, 7, 1]).reshape(6, 1, 1, 1)
    torch.testing.assert_close(fake_quantize_weight(weight * gamma), quantised * gamma, atol=1e-5, rtol=1e-5)


def test_int8_simulation_keeps_state_dict_keys_and_stays_close_to_float() -> None:
    model = _randomised(ModelConfig(width=12, n_mels=40, activation="relu", stage_resnorm=False)).eval()
    keys = list(model.state_dict())
    x = torch.randn(4, 1, 40, 32)
    with torch.no_grad():
        reference = model(x)
    simulation = Int8Simulation(model).eval()
    simulation.calibrate([x])
    simulation.quantize = False
    with torch.no_grad():
        torch.testing.assert_close(simulation(x), reference, atol=1e-4, rtol=1e-4)  # the same graph in float
    simulation.quantize = True
    with torch.no_grad():
        simulated = simulation(x)
    assert list(model.state_dict()) == keys
    assert not torch.equal(simulated, reference)
    assert float((simulated - reference).abs().mean()) < 0.1 * float(reference.abs().mean()) + 0.05


def test_distillation_loss_is_zero_at_the_teacher_and_pulls_towards_it() -> None:
    teacher_logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    t = 3.0
    teacher_probs = torch.softmax(teacher_logits / t, dim=1)
    assert float(distillation_loss(teacher_logits, teacher_probs, t)) == pytest.approx(0.0, abs=1e-6)
    student = torch.zeros(2, 3, requires_grad=True)
    loss = distillation_loss(student, teacher_probs, t)
    assert float(loss) > 0.01
    loss.backward()
    stepped = student.detach() - 1.0 * student.grad
    assert float(distillation_loss(stepped, teacher_probs, t)) < float(loss)
