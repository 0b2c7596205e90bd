"""Weights files (save / load in safetensors) and model conversion to and from torch.nn.

What a student relies on: a state_dict saved here loads into the same network in PyTorch
and back; a damaged or mismatched file raises a clear error and never half-loads a model;
to_torch / from_torch give the same network with the same weights; importing tinygrad_edu
never imports torch.
"""
import inspect
import json
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn
from tinygrad_edu.serialization import from_torch, load, save, to_torch

pytestmark = [pytest.mark.lecture09]   # save / load, state_dicts that move to PyTorch

safetensors = pytest.importorskip("safetensors")


# ----------------------------------------------------------------------------- helpers

def mlp_with_batchnorm() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def torch_mlp_with_batchnorm(torch):
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                               torch.nn.Linear(8, 3))


def small_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 3 * 3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))


def torch_small_cnn(torch):
    t = torch.nn
    return t.Sequential(t.Conv2d(2, 4, 3, padding=1), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                        t.Linear(4 * 3 * 3, 8), t.BatchNorm1d(8), t.Tanh(), t.Linear(8, 3))


def every_layer_model() -> nn.Sequential:
    """Every built-in layer, each with settings that differ from the defaults."""
    return nn.Sequential(
        nn.Conv2d(2, 3, kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=1, bias=False),
        nn.MaxPool2d(kernel_size=2, stride=1, padding=1, dilation=1),
        nn.Flatten(start_dim=1, end_dim=-1),
        nn.Linear(3 * 6 * 2, 6),
        nn.BatchNorm1d(6, eps=1e-3, momentum=0.2),
        nn.Dropout(p=0.25),
        nn.Identity(),
        nn.LeakyReLU(negative_slope=0.2),
        nn.ELU(alpha=0.5),
        nn.GELU(approximate="tanh"),
        nn.Softplus(beta=2.0, threshold=10.0),
        nn.Softsign(),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.ReLU(),
        nn.Linear(6, 5, bias=True),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1),
    )


def run_forward(model, batch=6):
    """Train-mode forward passes so BatchNorm's running statistics are not the defaults."""
    for _ in range(3):
        model(Tensor.randn(batch, 4))
    return model


def snapshot(model) -> dict:
    """Every parameter and buffer as bytes: equal snapshots mean a byte-identical model."""
    return {name: (t.dtype, t.shape, t.numpy().tobytes()) for name, t in model.state_dict().items()}


def to_torch_input(torch, x: Tensor):
    return torch.from_numpy(x.numpy().copy())


def outputs_match(ours, theirs, torch, x: Tensor, atol=1e-6) -> None:
    with torch.no_grad():
        expected = theirs(to_torch_input(torch, x)).numpy()
    np.testing.assert_allclose(ours(x).detach().numpy(), expected, rtol=1e-5, atol=atol)


# ----------------------------------------------------------------------------- save / load

def test_save_then_load_gives_the_same_tensors_dtypes_and_shapes(tmp_path):
    model = run_forward(mlp_with_batchnorm())
    save(model.state_dict(), tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    for name, tensor in model.state_dict().items():
        assert loaded[name].dtype == tensor.dtype, name
        assert loaded[name].shape == tensor.shape, name
        np.testing.assert_array_equal(loaded[name].numpy(), tensor.numpy())


def test_num_batches_tracked_round_trips_as_a_0d_int64_tensor(tmp_path):
    model = run_forward(mlp_with_batchnorm())
    save(model.state_dict(), tmp_path / "bn.safetensors")
    count = load(tmp_path / "bn.safetensors")["1.num_batches_tracked"]
    assert count.shape == () and count.dtype == np.int64 and count.item() == 3


def test_load_keeps_the_state_dict_order_not_the_files_alphabetical_one(tmp_path):
    model = nn.Sequential(*[nn.Linear(3, 3) for _ in range(12)])   # "10.weight" sorts before "2.weight"
    save(model.state_dict(), tmp_path / "deep.safetensors")
    assert list(load(tmp_path / "deep.safetensors")) == list(model.state_dict())


def test_load_returns_an_ordered_dict_of_plain_tensors(tmp_path):
    save(nn.Linear(2, 2).state_dict(), tmp_path / "linear.safetensors")
    loaded = load(tmp_path / "linear.safetensors")
    assert isinstance(loaded, OrderedDict)
    assert all(type(t) is Tensor and not t.requires_grad for t in loaded.values())


def test_save_and_load_accept_str_and_pathlib_paths(tmp_path):
    sd = {"w": Tensor([1.0, 2.0])}
    save(sd, str(tmp_path / "a.safetensors"))
    save(sd, tmp_path / "b.safetensors")
    assert load(str(tmp_path / "b.safetensors"))["w"].tolist() == [1.0, 2.0]
    assert load(Path(tmp_path / "a.safetensors"))["w"].tolist() == [1.0, 2.0]


def test_save_accepts_numpy_arrays_including_non_contiguous_ones(tmp_path):
    grid = np.arange(6.0).reshape(2, 3)
    save({"grid": grid.T, "flag": np.array([True, False]), "count": np.array(7, dtype=np.int64)},
         tmp_path / "arrays.safetensors")
    loaded = load(tmp_path / "arrays.safetensors")
    np.testing.assert_array_equal(loaded["grid"].numpy(), grid.T)
    assert loaded["flag"].tolist() == [True, False]
    assert loaded["count"].shape == () and loaded["count"].item() == 7


def test_save_writes_a_plain_safetensors_file_that_the_library_reads(tmp_path):
    save({"w": Tensor([[1.0, 2.0]])}, tmp_path / "w.safetensors", metadata={"epoch": "3"})
    from safetensors import safe_open
    with safe_open(str(tmp_path / "w.safetensors"), framework="np") as f:
        assert f.metadata()["epoch"] == "3"
        np.testing.assert_array_equal(f.get_tensor("w"), [[1.0, 2.0]])


def test_save_rejects_a_value_that_is_not_a_tensor_naming_its_key(tmp_path):
    with pytest.raises(TypeError, match=r"state_dict\['0.bias'\] is a list"):
        save({"0.weight": Tensor([1.0]), "0.bias": [1.0, 2.0]}, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_save_given_a_model_suggests_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        save(nn.Linear(2, 2), tmp_path / "model.safetensors")


def test_save_rejects_metadata_that_is_not_text_and_reserved_keys(tmp_path):
    with pytest.raises(TypeError, match="str to str"):
        save({"w": Tensor([1.0])}, tmp_path / "m.safetensors", metadata={"epoch": 3})
    with pytest.raises(ValueError, match="reserved"):
        save({"w": Tensor([1.0])}, tmp_path / "m.safetensors", metadata={"tinygrad_edu.order": "[]"})


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        save({"w": Tensor([1.0])}, tmp_path / "nowhere" / "w.safetensors")


def test_save_replaces_an_existing_file_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "w.safetensors"
    save({"w": Tensor([1.0])}, path)
    save({"w": Tensor([2.0])}, path)
    assert load(path)["w"].tolist() == [2.0]
    assert os.listdir(tmp_path) == ["w.safetensors"]


def test_a_save_that_fails_midway_keeps_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    save({"w": Tensor([1.0])}, path)
    before = path.read_bytes()

    def crash_after_half(arrays, filename, metadata=None):
        Path(filename).write_bytes(b"\x00" * 10)            # half a file, then the "crash"
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.numpy, "save_file", crash_after_half)
    with pytest.raises(KeyboardInterrupt):
        save({"w": Tensor([2.0])}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.safetensors"]


def test_load_of_a_missing_file_raises_FileNotFoundError_with_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        load(tmp_path / "missing.safetensors")


def test_an_empty_state_dict_round_trips(tmp_path):
    save({}, tmp_path / "empty.safetensors")
    assert load(tmp_path / "empty.safetensors") == OrderedDict()


def test_load_puts_tensors_on_the_requested_device(tmp_path, device):
    model = nn.Linear(3, 2).to(device)
    save(model.state_dict(), tmp_path / "w.safetensors")     # CuPy arrays are copied to the host
    loaded = load(tmp_path / "w.safetensors", device=device)
    assert {t.device for t in loaded.values()} == {device}
    np.testing.assert_array_equal(loaded["weight"].detach().numpy(), model.weight.detach().numpy())


# ----------------------------------------------------------------------------- damaged files

@pytest.fixture
def saved_model(tmp_path):
    """A model and the path of its valid weights file."""
    model = run_forward(mlp_with_batchnorm())
    path = tmp_path / "model.safetensors"
    save(model.state_dict(), path)
    return model, path


def header_length(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[:8], "little")


@pytest.mark.parametrize("keep", ["half", "all_but_one_byte", "length_prefix_only", "nothing"])
def test_a_truncated_file_raises_ValueError_saying_it_is_not_valid(saved_model, keep):
    _, path = saved_model
    data = path.read_bytes()
    size = {"half": len(data) // 2, "all_but_one_byte": len(data) - 1, "length_prefix_only": 8, "nothing": 0}[keep]
    path.write_bytes(data[:size])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load(path)


def test_every_flipped_header_byte_raises_ValueError(saved_model):
    _, path = saved_model
    data = path.read_bytes()
    for position in range(8 + header_length(path)):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        copy = path.with_name(f"flipped_{position}.safetensors")    # a new file each time: truncating
        copy.write_bytes(bytes(damaged))                             # an fsync'ed file 800 times is slow
        with pytest.raises(ValueError, match="not a valid safetensors file"):
            load(copy)


def test_a_flipped_weight_byte_is_caught_by_the_checksum(saved_model):
    _, path = saved_model
    damaged = bytearray(path.read_bytes())
    damaged[-3] ^= 0x01                     # inside the last tensor's data: the header is still valid
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="corrupted"):
        load(path)


def test_a_garbage_file_raises_ValueError(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load(path)


def test_a_pickle_file_is_refused_not_executed(tmp_path):
    import pickle
    path = tmp_path / "weights.pt"
    path.write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        load(path)


def test_failed_loads_leave_the_model_untouched(saved_model):
    model, path = saved_model
    before = snapshot(model)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError):
        model.load_state_dict(load(path))
    assert snapshot(model) == before


def test_a_file_of_another_architecture_raises_and_leaves_the_model_untouched(tmp_path):
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    save(other.state_dict(), tmp_path / "other.safetensors")
    model = run_forward(mlp_with_batchnorm())
    before = snapshot(model)
    with pytest.raises(RuntimeError, match="missing keys"):
        model.load_state_dict(load(tmp_path / "other.safetensors"))
    assert snapshot(model) == before


def test_a_file_whose_last_shape_differs_raises_and_changes_no_earlier_weight(tmp_path):
    # Every key matches and the first layers fit; only the last layer's shape does not.
    wider = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 5))
    save(run_forward(wider).state_dict(), tmp_path / "wider.safetensors")
    model = run_forward(mlp_with_batchnorm())
    before = snapshot(model)
    with pytest.raises(RuntimeError, match=r"3.weight: shape \(5, 8\)"):
        model.load_state_dict(load(tmp_path / "wider.safetensors"))
    assert snapshot(model) == before


def test_a_matching_file_loads_into_a_fresh_model_exactly(saved_model):
    model, path = saved_model
    fresh = mlp_with_batchnorm()
    fresh.load_state_dict(load(path), strict=True)
    assert snapshot(fresh) == snapshot(model)


# ----------------------------------------------------------------------------- files shared with PyTorch

def test_our_file_loads_into_the_equivalent_torch_sequential(torch, tmp_path):
    from safetensors.torch import load_file
    model = small_cnn()
    x = Tensor.randn(5, 2, 6, 6)
    model(x)                                         # update BatchNorm's running statistics
    model.eval()
    save(model.state_dict(), tmp_path / "cnn.safetensors")
    theirs = torch_small_cnn(torch)
    theirs.load_state_dict(load_file(tmp_path / "cnn.safetensors"), strict=True)
    theirs.eval()
    assert theirs[5].num_batches_tracked.item() == 1
    outputs_match(model, theirs, torch, x)


def test_torch_file_loads_into_our_equivalent_sequential(torch, tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(0)
    theirs = torch_small_cnn(torch)
    with torch.no_grad():
        for _ in range(2):
            theirs(torch.randn(5, 2, 6, 6))          # running statistics and num_batches_tracked = 2
    theirs.eval()
    save_file(theirs.state_dict(), tmp_path / "cnn.safetensors")
    loaded = load(tmp_path / "cnn.safetensors")
    assert set(loaded) == set(theirs.state_dict())   # the file's own order: torch's writer records none
    model = small_cnn()
    model.load_state_dict(loaded, strict=True)
    model.eval()
    assert model[5].num_batches_tracked.shape == () and model[5].num_batches_tracked.item() == 2
    outputs_match(model, theirs, torch, Tensor.randn(4, 2, 6, 6))


def test_torch_mlp_file_with_batchnorm_loads_into_ours(torch, tmp_path):
    from safetensors.torch import save_file
    torch.manual_seed(1)
    theirs = torch_mlp_with_batchnorm(torch)
    with torch.no_grad():
        theirs(torch.randn(16, 4))
    save_file(theirs.state_dict(), tmp_path / "mlp.safetensors")
    model = mlp_with_batchnorm()
    model.load_state_dict(load(tmp_path / "mlp.safetensors"), strict=True)
    model.eval()
    theirs.eval()
    outputs_match(model, theirs, torch, Tensor.randn(7, 4))


def test_a_bfloat16_torch_file_raises_a_clear_ValueError(torch, tmp_path):
    from safetensors.torch import save_file
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    with pytest.raises(ValueError, match=r"NumPy cannot represent.*\.float\(\)"):
        load(tmp_path / "bf16.safetensors")


# ----------------------------------------------------------------------------- to_torch / from_torch

def test_to_torch_maps_every_built_in_layer_with_its_settings(torch):
    model = every_layer_model()
    theirs = to_torch(model)
    assert isinstance(theirs, torch.nn.Sequential)
    for ours, twin in zip(model, theirs):
        assert type(twin) is getattr(torch.nn, type(ours).__name__)
    conv, pool, flat, _, bn = theirs[0], theirs[1], theirs[2], theirs[3], theirs[4]
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((3, 2), (1, 2), (1, 0), None)
    assert (pool.kernel_size, pool.stride, pool.padding) == (2, 1, 1)
    assert (flat.start_dim, flat.end_dim) == (1, -1)
    assert (bn.eps, bn.momentum) == (1e-3, 0.2)
    assert theirs[5].p == 0.25 and theirs[7].negative_slope == 0.2 and theirs[8].alpha == 0.5
    assert theirs[9].approximate == "tanh" and (theirs[10].beta, theirs[10].threshold) == (2.0, 10.0)
    assert theirs[16].dim == 1 and theirs[17].dim == -1


def test_to_torch_gives_the_same_outputs_in_eval_mode(torch):
    model = every_layer_model()
    model(Tensor.randn(8, 2, 5, 3))
    model.eval()
    outputs_match(model, to_torch(model), torch, Tensor.randn(4, 2, 5, 3))


def test_to_torch_gives_the_same_outputs_and_running_stats_in_train_mode(torch):
    model = small_cnn()                              # BatchNorm uses the batch's statistics
    theirs = to_torch(model)
    assert theirs.training and theirs[5].training
    x = Tensor.randn(6, 2, 6, 6)
    outputs_match(model, theirs, torch, x)           # one forward each: both update their stats
    np.testing.assert_allclose(theirs[5].running_var.numpy(), model[5].running_var.numpy(), rtol=1e-5, atol=1e-6)
    assert theirs[5].num_batches_tracked.item() == model[5].num_batches_tracked.item() == 1


def test_to_torch_keeps_each_modules_train_or_eval_mode(torch):
    model = mlp_with_batchnorm()
    model[1].eval()
    theirs = to_torch(model)
    assert [m.training for m in theirs.modules()] == [m.training for m in model.modules()]
    assert theirs.training and not theirs[1].training


def test_to_torch_copies_weights_and_requires_grad_flags(torch):
    model = mlp_with_batchnorm()
    model[0].weight.requires_grad_(False)
    theirs = to_torch(model)
    for name, tensor in model.state_dict().items():
        np.testing.assert_array_equal(theirs.state_dict()[name].numpy(), tensor.numpy())
    assert not theirs[0].weight.requires_grad and theirs[0].bias.requires_grad
    theirs[3].weight.data.zero_()                    # a copy: changing torch's weights leaves ours
    assert np.abs(model[3].weight.detach().numpy()).sum() > 0


def test_to_torch_keeps_float64_weights(torch):
    model = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.Tanh())
    theirs = to_torch(model)
    assert theirs[0].weight.dtype == torch.float64
    x = Tensor(np.random.randn(4, 3))
    outputs_match(model, theirs, torch, x, atol=1e-12)


def test_to_torch_keeps_child_names_and_nested_containers(torch):
    model = nn.Sequential(OrderedDict([
        ("encoder", nn.Sequential(nn.Linear(4, 6), nn.ReLU())),
        ("heads", nn.ModuleList([nn.Linear(6, 2), nn.Linear(6, 1)])),
    ]))
    theirs = to_torch(model)
    assert isinstance(theirs.heads, torch.nn.ModuleList) and len(theirs.heads) == 2
    assert list(theirs.state_dict()) == list(model.state_dict())


def test_a_module_dict_converts_both_ways_with_its_keys(torch):
    model = nn.Sequential(OrderedDict([
        ("body", nn.Linear(4, 6)),
        ("heads", nn.ModuleDict({"class": nn.Linear(6, 3), "box": nn.Linear(6, 4)})),
    ]))
    theirs = to_torch(model)
    assert isinstance(theirs.heads, torch.nn.ModuleDict) and list(theirs.heads.keys()) == ["class", "box"]
    assert list(theirs.state_dict()) == list(model.state_dict())
    back = from_torch(theirs)
    assert isinstance(back.heads, nn.ModuleDict) and list(back.state_dict()) == list(model.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    ours = back.heads["box"](back.body(Tensor(x))).detach().numpy()
    np.testing.assert_allclose(ours, theirs.heads["box"](theirs.body(torch.tensor(x))).detach().numpy(), rtol=1e-6)


def test_to_torch_keeps_a_shared_layer_shared(torch):
    shared = nn.Linear(3, 3)
    theirs = to_torch(nn.Sequential(shared, nn.ReLU(), shared))
    assert theirs[0] is theirs[2]


@pytest.mark.skipif("bias" not in inspect.signature(nn.BatchNorm1d).parameters,
                    reason="this BatchNorm1d has no bias= option yet")
@pytest.mark.parametrize("affine, bias", [(True, False), (False, True), (False, False)])
def test_batchnorm_without_bias_or_affine_converts_both_ways(torch, affine, bias):
    theirs = torch.nn.Sequential(torch.nn.BatchNorm1d(4, affine=affine, bias=bias, track_running_stats=affine))
    model = from_torch(theirs)
    assert list(model.state_dict()) == list(theirs.state_dict())
    outputs_match(model, theirs, torch, Tensor.randn(5, 4))
    back = to_torch(model)
    assert list(back.state_dict()) == list(theirs.state_dict())
    assert (back[0].affine, back[0].track_running_stats) == (affine, affine)


def test_from_torch_keeps_a_shared_layer_shared(torch):
    shared = torch.nn.Linear(3, 3)
    model = from_torch(torch.nn.Sequential(shared, torch.nn.ReLU(), shared))
    assert len(model) == 3 and model[0] is model[2]


def test_model_to_torch_and_back_has_identical_weights_and_outputs(torch):
    model = every_layer_model()
    model(Tensor.randn(8, 2, 5, 3))
    model.eval()
    back = from_torch(to_torch(model))
    assert snapshot(back) == snapshot(model)
    assert repr(back) == repr(model)
    x = Tensor.randn(4, 2, 5, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())


def test_from_torch_gives_the_same_outputs(torch):
    torch.manual_seed(0)
    theirs = torch_small_cnn(torch)
    with torch.no_grad():
        theirs(torch.randn(5, 2, 6, 6))
    theirs.eval()
    model = from_torch(theirs)
    assert not model.training and not model[5].training
    outputs_match(model, theirs, torch, Tensor.randn(3, 2, 6, 6))


def test_from_torch_accepts_int_and_tuple_settings_and_inplace_flags(torch):
    t = torch.nn
    theirs = t.Sequential(t.Conv2d(1, 2, 3, stride=2, dilation=(1, 2)), t.ReLU(inplace=True),
                          t.MaxPool2d((2, 1)), t.Dropout(0.1, inplace=True), t.Flatten())
    theirs.eval()
    model = from_torch(theirs)
    assert model[0].stride == (2, 2) and model[0].dilation == (1, 2) and model[3].p == 0.1
    outputs_match(model, theirs, torch, Tensor.randn(2, 1, 9, 9))


def test_a_trained_model_moved_to_torch_predicts_the_same(torch):
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(64, 4)).astype(np.float32))
    y = Tensor((x.numpy()[:, 0] > x.numpy()[:, 1]).astype(np.int64))
    model = mlp_with_batchnorm()
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(30):                              # plain gradient descent, written out
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        losses.append(loss.item())
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
    assert losses[-1] < losses[0] / 2
    model.eval()
    theirs = to_torch(model)
    assert not theirs.training
    with torch.no_grad():
        predicted = theirs(to_torch_input(torch, x)).argmax(1).numpy()
    np.testing.assert_array_equal(predicted, model(x).detach().numpy().argmax(1))
    outputs_match(model, theirs, torch, x, atol=1e-5)


def test_to_torch_refuses_maxout_naming_its_path_and_class_before_building_anything(torch, monkeypatch):
    def must_not_be_called(*args, **kwargs):
        raise AssertionError("a torch layer was built before the model was checked")

    monkeypatch.setattr(torch.nn, "Linear", must_not_be_called)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Maxout(6, 3))
    with pytest.raises(TypeError, match=r"to_torch: cannot convert layer '2' \(Maxout\): PyTorch has no built-in"):
        to_torch(model)


def test_to_torch_refuses_a_custom_module_naming_its_path(torch):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(4, 4)

        def forward(self, x):
            return x + self.inner(x)

    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Residual()))
    with pytest.raises(TypeError, match=r"cannot convert layer '1.1' \(Residual\).*load_state_dict"):
        to_torch(model)
    with pytest.raises(TypeError, match=r"cannot convert the top-level module \(Residual\)"):
        to_torch(Residual())


def test_to_torch_refuses_a_subclass_of_a_built_in_layer(torch):
    class ScaledLinear(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2.0

    with pytest.raises(TypeError, match=r"layer '0' \(ScaledLinear\)"):
        to_torch(nn.Sequential(ScaledLinear(2, 2)))


def test_from_torch_refuses_an_unsupported_torch_layer_naming_it(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Bilinear(4, 4, 2))     # (LayerNorm converts now)
    with pytest.raises(TypeError, match=r"from_torch: cannot convert layer '1' \(torch.nn.Bilinear\)"):
        from_torch(theirs)


def test_from_torch_refuses_a_custom_torch_module(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(TypeError, match=r"cannot convert the top-level module \(.*Net\)"):
        from_torch(Net())


@pytest.mark.parametrize("make, setting", [
    (lambda torch: torch.nn.MaxPool2d(2, return_indices=True), "return_indices"),
    (lambda torch: torch.nn.Conv2d(1, 1, 3, padding="same"), "padding='same'"),
    (lambda torch: torch.nn.Upsample(scale_factor=2, mode="bicubic"), "mode='bicubic'"),
    (lambda torch: torch.nn.Softmax(), "dim=None"),
    (lambda torch: torch.nn.Linear(2, 2).to(torch.bfloat16), "bfloat16"),
])
def test_from_torch_refuses_settings_it_cannot_reproduce(torch, make, setting):
    with pytest.raises(TypeError, match=rf"layer '0' .*{setting}"):
        from_torch(torch.nn.Sequential(make(torch)))


# ----------------------------------------------------------------------------- torch stays optional

def test_without_safetensors_save_and_load_say_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)          # makes `import safetensors` fail
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        save({"w": Tensor([1.0])}, tmp_path / "w.safetensors")
    with pytest.raises(ImportError, match="pip install safetensors"):
        load(tmp_path / "w.safetensors")


def test_without_torch_to_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(nn.Linear(2, 2))


def test_importing_tinygrad_edu_and_saving_weights_does_not_import_torch(tmp_path):
    script = (
        "import sys\n"
        "import tinygrad_edu, tinygrad_edu.nn, tinygrad_edu.serialization as s\n"
        "assert 'torch' not in sys.modules, 'import tinygrad_edu imported torch'\n"
        f"s.save(tinygrad_edu.nn.Linear(2, 2).state_dict(), {str(tmp_path / 'w.safetensors')!r})\n"
        f"s.load({str(tmp_path / 'w.safetensors')!r})\n"
        "assert 'torch' not in sys.modules, 'save/load imported torch'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_file_records_the_key_order_and_a_checksum(tmp_path):
    save(nn.Linear(2, 2).state_dict(), tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    metadata = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]
    assert json.loads(metadata["tinygrad_edu.order"]) == ["weight", "bias"]
    assert len(metadata["tinygrad_edu.sha256"]) == 64 and metadata["format"] == "pt"
