"""Saving weights and moving models to and from PyTorch.

    save(model.state_dict(), "model.safetensors")      # a safetensors file, never pickle
    model.load_state_dict(load("model.safetensors"))
    torch_model = to_torch(model)                        # the same network as torch.nn layers
    model = from_torch(torch_model)                      # and back

A state_dict already uses PyTorch's names and layouts ("0.weight" is (out, in)), so a file
written here loads into the equivalent torch.nn model with torch's load_state_dict, and a file
written by safetensors.torch.save_file loads here.

The safetensors file format: 8 bytes (little-endian header length N), N bytes of JSON naming
each tensor's dtype, shape and byte range, then the raw bytes of every tensor. Nothing in it
is executed when it is read, unlike a pickle. The format keeps no order and no checksum, so
`save` records both in the header's free-text metadata and `load` checks them.

Neither safetensors (the `all` extra) nor torch is imported until one of these functions needs it.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import backend, nn
from .tensor import Tensor

_ORDER_KEY = "tinygrad_edu.order"          # metadata: the state_dict's key order, as a JSON list
_CHECKSUM_KEY = "tinygrad_edu.sha256"      # metadata: a SHA-256 of every name, dtype, shape and value


# ----------------------------------------------------------------------------- save / load

def save(state_dict: Mapping[str, Any], path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state_dict (name -> Tensor or NumPy array) to `path` as a safetensors file.

    `metadata` is extra text (str -> str) stored in the file's header. The file is written
    to a temporary name in the same folder and then renamed over `path`, so a crash
    leaves either the old file or the new one, never half of one."""
    safetensors = _import_safetensors("save")
    if not hasattr(state_dict, "items"):
        hint = " (did you mean save(model.state_dict(), path)?)" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save: expected a state_dict (a dict of name -> Tensor), "
                        f"got {type(state_dict).__name__}{hint}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save: state_dict keys must be strings, got {key!r} ({type(key).__name__})")
        arrays[key] = _to_numpy(key, value)
    header = {"format": "pt"}             # the layout is PyTorch's; Hugging Face loaders look for this
    header.update(_user_metadata(metadata))
    header[_ORDER_KEY] = json.dumps(list(arrays))
    header[_CHECKSUM_KEY] = _checksum(arrays)

    path = _as_path(path, "save")
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"save: the folder '{folder}' does not exist; create it first")
    if path.is_dir():
        raise IsADirectoryError(f"save: '{path}' is a folder; give a file name such as '{path / 'model.safetensors'}'")
    temporary = folder / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        safetensors.numpy.save_file(arrays, temporary, metadata=header)
        with open(temporary, "r+b") as f:
            os.fsync(f.fileno())          # the bytes are on disk before the name points at them
        os.replace(temporary, path)       # atomic: readers see the old file or the new one
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike, device: str | None = None) -> "OrderedDict[str, Tensor]":
    """Read a safetensors file into an OrderedDict name -> Tensor, in the order it was saved.

    The whole file is checked (header, sizes, and for files written by `save` its checksum)
    before anything is returned: a truncated or corrupted file raises ValueError. Files
    written by other tools (safetensors.torch.save_file) come back in the file's own order.
    Tensors are put on `device` (default: the default device)."""
    safetensors = _import_safetensors("load")
    path = _as_path(path, "load")
    device = backend.parse_device(device)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: '{path}'") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"load: '{path}' is a folder, not a weights file") from None
    try:
        arrays = safetensors.numpy.load(data)
    except safetensors.SafetensorError as exc:
        raise ValueError(f"load: '{path}' is not a valid safetensors file; it may be truncated or "
                         f"corrupted ({exc})") from exc
    except (TypeError, KeyError) as exc:  # a dtype NumPy has no type for, such as bfloat16
        raise ValueError(f"load: '{path}' holds a tensor whose dtype NumPy cannot represent ({exc}); "
                         "save it as float32 instead (in PyTorch: .float() before saving)") from exc
    order = _saved_order(path, data, arrays)
    return OrderedDict((name, Tensor(arrays[name], device=device)) for name in order)


def _import_safetensors(op: str):
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError(f'{op}: weights files need the safetensors package: pip install safetensors '
                          f'(or install this project with its extras: pip install -e ".[all]")') from None
    return safetensors


def _as_path(path: Any, op: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str or a pathlib.Path, got {type(path).__name__}")
    return Path(path)


def _to_numpy(key: str, value: Any) -> np.ndarray:
    """The NumPy array of one state_dict value (a CuPy array is copied to the host explicitly)."""
    if isinstance(value, Tensor):
        array = value.data
    elif isinstance(value, np.ndarray) or type(value).__module__.split(".")[0] == "cupy":
        array = value
    else:
        library = type(value).__module__.split(".")[0]
        kind = type(value).__name__ if library == "builtins" else f"{library}.{type(value).__name__}"
        hint = "; save torch tensors with safetensors.torch.save_file, or pass .numpy()" if library == "torch" else ""
        raise TypeError(f"save: state_dict[{key!r}] is a {kind}, expected a tinygrad_edu Tensor "
                        f"or a NumPy array{hint}")
    array = backend.to_numpy(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"save: state_dict[{key!r}] has dtype {array.dtype}, which safetensors cannot store")
    # The library copies the raw buffer, so it must be C-contiguous. (Not np.ascontiguousarray:
    # it turns a 0-d array such as BatchNorm's num_batches_tracked into shape (1,).)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _user_metadata(metadata: Mapping[str, str] | None) -> dict:
    if metadata is None:
        return {}
    if not hasattr(metadata, "items"):
        raise TypeError(f"save: metadata must be a dict of str -> str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"save: metadata must map str to str, got {key!r}: {value!r}")
        if key.startswith("tinygrad_edu."):
            raise ValueError(f"save: metadata key {key!r} is reserved for tinygrad_edu itself")
    return dict(metadata)


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in order.
    safetensors has no checksum of its own, so without it a flipped weight would load silently."""
    digest = hashlib.sha256()
    for name, array in arrays.items():
        digest.update(json.dumps([name, array.dtype.name, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _saved_order(path: Path, data: bytes, arrays: dict) -> list:
    """The key order recorded by `save`, checked against the checksum; else the file's own order.
    Only called once the library has validated the file, so the header is well-formed JSON."""
    header_length = int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8:8 + header_length]).get("__metadata__") or {}
    if _ORDER_KEY not in metadata and _CHECKSUM_KEY not in metadata:
        return list(arrays)               # written by another tool
    try:
        order = json.loads(metadata.get(_ORDER_KEY, ""))
    except ValueError:
        order = None
    valid = (isinstance(order, list) and all(isinstance(name, str) for name in order)
             and sorted(order) == sorted(arrays)
             and metadata.get(_CHECKSUM_KEY) == _checksum({name: arrays[name] for name in order}))
    if not valid:
        raise ValueError(f"load: '{path}' is corrupted: its tensors do not match the checksum "
                         "that tinygrad_edu.save recorded in it")
    return order


# ----------------------------------------------------------------------------- to / from torch.nn

# Every built-in layer has a torch.nn twin of the same name whose constructor takes the same
# hyper-parameters, kept in attributes of the same names on both sides. "bias" means "has a bias".
_HYPER_PARAMETERS = {
    "Linear": ("in_features", "out_features", "bias"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    # ---- the window layers of the vision lectures (helper G1)
    "ConvTranspose2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
                        "groups", "bias", "dilation"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "AdaptiveAvgPool2d": ("output_size",),
    "Upsample": ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
    "UpsamplingNearest2d": ("size", "scale_factor"),
    "UpsamplingBilinear2d": ("size", "scale_factor"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    "Dropout": ("p", "inplace"),
    "Flatten": ("start_dim", "end_dim"),
    "Identity": (),
    "ReLU": (),
    "Sigmoid": (),
    "Tanh": (),
    "LeakyReLU": ("negative_slope",),
    "ELU": ("alpha",),
    "GELU": ("approximate",),
    "Softplus": ("beta", "threshold"),
    "Softsign": (),
    "Softmax": ("dim",),
    "LogSoftmax": ("dim",),
    # ---- the vision lectures (helper G2)
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    "Dropout2d": ("p", "inplace"),
    "SiLU": ("inplace",),
    # ---- the sequence lectures (helper NLP); the last two are read by _COMPOSITE's readers below
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                  "sparse"),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine", "bias"),
    "MultiheadAttention": ("embed_dim", "num_heads", "dropout", "bias", "batch_first"),
    "TransformerEncoderLayer": ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps",
                                "batch_first", "norm_first", "bias"),
    # ---- the sequence lectures: recurrent layers (helper RNN); their bias is a flag on both sides
    "RNN": ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "dropout",
            "bidirectional"),
    "LSTM": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"),
    "GRU": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"),
    "RNNCell": ("input_size", "hidden_size", "bias", "nonlinearity"),
    "LSTMCell": ("input_size", "hidden_size", "bias"),
    "GRUCell": ("input_size", "hidden_size", "bias"),
}
_WEIGHTED = ("Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d",
             "ConvTranspose2d",     # the layers that take dtype= (and device=)
             "Embedding", "LayerNorm", "MultiheadAttention", "TransformerEncoderLayer",
             "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
_SUPPORTED = ", ".join(_CONTAINERS + tuple(_HYPER_PARAMETERS))


def to_torch(model: nn.Module) -> Any:
    """The equivalent torch.nn module (on the CPU) with copies of the weights and buffers,
    the same train/eval mode and the same requires_grad flags.

    Works for any tree of Sequential / ModuleList and the built-in layers; anything else
    (Maxout, a custom Module) raises TypeError naming the layer, before anything is built."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"to_torch: expected a tinygrad_edu.nn.Module, got {type(model).__name__}")
    for path, module in model.named_modules():
        reason = _why_ours_cannot_convert(module)
        if reason:
            raise TypeError(f"to_torch: cannot convert {_layer(path)} ({type(module).__name__}): {reason}")
    torch = _import_torch("to_torch")
    return _torch_twin(model, torch, built={})


def from_torch(module: Any, device: str | None = None) -> nn.Module:
    """The equivalent tinygrad_edu model (on `device`) with copies of the torch module's weights
    and buffers, the same train/eval mode and the same requires_grad flags.

    Works for trees of torch.nn.Sequential / ModuleList and the layers tinygrad_edu has;
    anything else raises TypeError naming the layer, before anything is built."""
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    if hasattr(module, "module") and type(module).__name__ in ("DistributedDataParallel", "DataParallel"):
        raise TypeError(f"from_torch: got a {type(module).__name__} wrapper; convert the model inside it, "
                        f"from_torch(model.module), whose state_dict names have no 'module.' prefix")
    for path, layer in module.named_modules():
        reason = _why_torch_cannot_convert(layer, torch)
        if reason:
            raise TypeError(f"from_torch: cannot convert {_layer(path)} ({_torch_name(layer)}): {reason}")
    return _our_twin(module, torch, backend.parse_device(device), built={})


def _import_torch(op: str):
    try:
        import torch
    except ImportError:
        raise ImportError(f"{op} needs PyTorch: pip install torch") from None
    return torch


def _layer(path: str) -> str:
    return f"layer '{path}'" if path else "the top-level module"


def _settings(layer: Any, name: str) -> dict:
    """The constructor arguments of a layer, read from its attributes (works on both sides)."""
    if name in _COMPOSITE:
        return _COMPOSITE[name](layer)
    settings = {attr: getattr(layer, attr) for attr in _HYPER_PARAMETERS[name]}
    if "bias" in settings and not isinstance(settings["bias"], bool):   # a Parameter or None; RNN's is a flag
        settings["bias"] = settings["bias"] is not None
    if name in ("BatchNorm1d", "BatchNorm2d") and (settings["bias"] or not settings["affine"]):
        del settings["bias"]    # BatchNorm's bias= is new (torch 2.13): pass it only when it changes something
    return settings


# Layers built of sub-modules (they convert as a whole: the constructor builds the children, one
# load_state_dict fills them), and how to read their settings from the sub-modules, which have the
# same names and attributes on both sides.
def _attention_settings(layer: Any) -> dict:
    return {"embed_dim": layer.embed_dim, "num_heads": layer.num_heads, "dropout": layer.dropout,
            "bias": layer.in_proj_bias is not None, "batch_first": layer.batch_first}


def _encoder_layer_settings(layer: Any) -> dict:
    attention = layer.self_attn
    return {"d_model": attention.embed_dim, "nhead": attention.num_heads, "dim_feedforward": layer.linear1.out_features,
            "dropout": layer.dropout.p, "activation": _activation_name(layer.activation),
            "layer_norm_eps": layer.norm1.eps, "batch_first": attention.batch_first, "norm_first": layer.norm_first,
            "bias": layer.linear1.bias is not None}


_COMPOSITE = {"MultiheadAttention": _attention_settings, "TransformerEncoderLayer": _encoder_layer_settings}


def _activation_name(activation: Any) -> str | None:
    """"relu" or "gelu" for the Transformer layer's activation on either side (a function or a module),
    None for any other."""
    kind = type(activation).__name__
    if kind in ("ReLU", "GELU") and isinstance(getattr(activation, "training", None), bool):     # a module
        return "relu" if kind == "ReLU" else ("gelu" if activation.approximate == "none" else None)
    module = getattr(activation, "__module__", None) or ""
    name = getattr(activation, "__name__", "")
    if name in ("relu", "gelu") and (module.startswith("torch") or module == nn.functional.__name__):
        return name
    return None


def _why_ours_cannot_convert(module: nn.Module) -> str | None:
    name = type(module).__name__
    if type(module) is getattr(nn, name, None) and (name in _CONTAINERS or name in _HYPER_PARAMETERS):
        if name in _HYPER_PARAMETERS and module._modules and name not in _COMPOSITE:
            return f"it has sub-modules that torch.nn.{name} does not have"
        if name == "TransformerEncoderLayer" and _activation_name(module.activation) is None:
            return f"its activation {module.activation!r} has no torch twin; use activation='relu' or 'gelu'"
        return None
    if isinstance(module, nn.Maxout):
        return ("PyTorch has no built-in equivalent; write a small torch.nn.Module for it (a Linear to "
                "out_features * pieces, then a max over the pieces) and copy the weights with load_state_dict")
    return (f"to_torch converts only trees of {_SUPPORTED}, and cannot translate any other forward(); "
            "write its torch.nn version yourself and copy the weights with load_state_dict "
            "(the state_dict names and shapes are already PyTorch's)")


def _torch_kind(layer: Any, torch: Any) -> str:
    """The torch.nn class name of a layer; MultiheadAttention's out_proj, a NonDynamicallyQuantizableLinear
    (a Linear that quantization leaves alone), counts as a Linear."""
    if type(layer) is torch.nn.modules.linear.NonDynamicallyQuantizableLinear:
        return "Linear"
    return type(layer).__name__


def _why_torch_cannot_convert(layer: Any, torch: Any) -> str | None:
    name = _torch_kind(layer, torch)
    known = type(layer) in (getattr(torch.nn, name, None), torch.nn.modules.linear.NonDynamicallyQuantizableLinear)
    if not known or not (name in _CONTAINERS or name in _HYPER_PARAMETERS):
        return f"tinygrad_edu has no equivalent; from_torch converts {_SUPPORTED}"
    if name in _CONTAINERS:
        return None
    if any(True for _ in layer.children()) and name not in _COMPOSITE:
        return "it has sub-modules that the built-in layer does not have"
    if name == "Embedding" and (layer.max_norm is not None or layer.sparse):
        return "max_norm and sparse=True are not supported"
    if name == "MultiheadAttention" and (not layer._qkv_same_embed_dim or layer.bias_k is not None
                                         or layer.add_zero_attn):
        return "kdim or vdim other than embed_dim, add_bias_kv and add_zero_attn are not supported"
    if name == "TransformerEncoderLayer" and _activation_name(layer.activation) is None:
        return f"its activation {layer.activation!r} is not supported, only relu and gelu"
    if name in ("Conv2d", "ConvTranspose2d"):
        if layer.padding_mode != "zeros":
            return f"padding_mode={layer.padding_mode!r} is not supported, only 'zeros'"
        if isinstance(layer.padding, str):
            return f"padding={layer.padding!r} is not supported; give the padding as numbers"
    if name == "LSTM" and layer.proj_size:
        return f"proj_size={layer.proj_size} (an LSTM with projections) is not supported"
    if name == "MaxPool2d" and layer.return_indices:
        return "return_indices=True is not supported"
    if name == "Upsample" and layer.mode not in ("nearest", "nearest-exact", "bilinear", "area"):
        return f"mode={layer.mode!r} is not supported, only 'nearest', 'nearest-exact', 'bilinear' and 'area'"
    if name in ("Softmax", "LogSoftmax") and layer.dim is None:
        return "dim=None (PyTorch then guesses the axis from the input's rank); give dim explicitly"
    for key, value in layer.state_dict().items():
        if value.dtype not in (torch.float16, torch.float32, torch.float64, torch.int64):
            return f"{key} is {value.dtype}, which NumPy cannot hold; convert the module first (module.float())"
    return None


def _torch_name(layer: Any) -> str:
    kind = type(layer)
    return f"{kind.__module__.rsplit('.modules', 1)[0]}.{kind.__name__}" if kind.__module__.startswith("torch.") \
        else kind.__qualname__


def _torch_twin(module: nn.Module, torch: Any, built: dict) -> Any:
    """Build the torch.nn twin of an (already checked) module; `built` keeps shared layers shared."""
    if id(module) in built:
        return built[id(module)]
    name = type(module).__name__
    if name == "Sequential":
        twin = torch.nn.Sequential(OrderedDict(
            (child_name, _torch_twin(child, torch, built)) for child_name, child in module.named_children()))
    elif name == "ModuleList":
        twin = torch.nn.ModuleList([_torch_twin(child, torch, built) for child in module.children()])
    elif name == "ModuleDict":
        twin = torch.nn.ModuleDict({key: _torch_twin(child, torch, built) for key, child in module.items()})
    else:
        settings = _settings(module, name)
        state = module.state_dict()
        if name in _WEIGHTED and state:
            settings["dtype"] = getattr(torch, next(iter(state.values())).dtype.name)
        twin = getattr(torch.nn, name)(**settings)
        twin.load_state_dict({key: torch.tensor(value.numpy()) for key, value in state.items()}, strict=True)
        for key, param in module.named_parameters():
            twin.get_parameter(key).requires_grad_(param.requires_grad)
        _copy_modes(module, twin, name)
    twin.training = module.training        # this module only: children keep their own modes
    built[id(module)] = twin
    return twin


def _our_twin(layer: Any, torch: Any, device: str, built: dict) -> nn.Module:
    """Build the tinygrad_edu twin of an (already checked) torch module."""
    if id(layer) in built:
        return built[id(layer)]
    name = _torch_kind(layer, torch)
    # torch's named_children() skips a layer that appears twice, so read _modules directly
    children = [(child_name, child) for child_name, child in layer._modules.items() if child is not None]
    if name == "Sequential":
        twin = nn.Sequential(OrderedDict(
            (child_name, _our_twin(child, torch, device, built)) for child_name, child in children))
    elif name == "ModuleList":
        twin = nn.ModuleList([_our_twin(child, torch, device, built) for _, child in children])
    elif name == "ModuleDict":
        twin = nn.ModuleDict({key: _our_twin(child, torch, device, built) for key, child in children})
    else:
        settings = _settings(layer, name)
        state = {key: value.detach().cpu().numpy() for key, value in layer.state_dict().items()}
        if name in _WEIGHTED:
            settings["device"] = device
            if state:
                settings["dtype"] = next(iter(state.values())).dtype
        twin = getattr(nn, name)(**settings)
        twin.load_state_dict(state, strict=True)
        params = dict(twin.named_parameters())
        for key, param in layer.named_parameters():
            params[key].requires_grad_(param.requires_grad)
        _copy_modes(layer, twin, name)
    twin.training = layer.training
    built[id(layer)] = twin
    return twin


def _copy_modes(layer: Any, twin: Any, name: str) -> None:
    """The train/eval mode of each sub-module of a composite layer, copied to its twin's."""
    if name in _COMPOSITE:
        modes = {path: sub.training for path, sub in layer.named_modules()}
        for path, sub in twin.named_modules():
            if path in modes:
                sub.training = modes[path]
