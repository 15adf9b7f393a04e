"""An independent check of adapterc's gradient graph: the eval model (forward and loss) run by a small
ONNX interpreter written in PyTorch, in float64 on the GPU, and differentiated by torch.autograd; its
gradients for the trainable parameters are compared with those of adapterc's own backward graph
(gradients.onnx, as onnxruntime computed it on the compiling machine).

The same interpreter, in float32, runs the step model (forward, adapterc's backward graph and the
optimizer update in one graph) on the GPU where no onnxruntime with CUDA is at hand.

Only the ops that adapterc's eval and step models use are interpreted (adapterc unfuses ONNX
Runtime's contrib ops, so its models are standard ONNX); an op outside them is reported, not guessed.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper

DTYPES = {
    onnx.TensorProto.FLOAT: torch.float64,  # float runs in float64: this is the reference
    onnx.TensorProto.DOUBLE: torch.float64,
    onnx.TensorProto.INT64: torch.int64,
    onnx.TensorProto.INT32: torch.int32,
    onnx.TensorProto.BOOL: torch.bool,
}


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def ints(t):
    return [int(x) for x in t.reshape(-1).tolist()]


def reduce(x, axes, keepdims, noop_with_empty_axes, fn):
    if not axes:
        if noop_with_empty_axes:
            return x
        axes = list(range(x.dim()))
    return fn(x, dim=[a % x.dim() for a in axes], keepdim=bool(keepdims)) if x.dim() else x


def softmax(x, axis, opset, log):
    f = torch.log_softmax if log else torch.softmax
    if opset >= 13:
        return f(x, dim=axis)
    # Before opset 13 the input is flattened to 2-D at `axis` (default 1) and normalised per row.
    axis %= x.dim()
    shape = x.shape
    rows = int(np.prod(shape[:axis])) if axis else 1
    return f(x.reshape(rows, -1), dim=1).reshape(shape)


def run_node(op, a, x, opset, float_dtype=torch.float64):
    """`x`: the node's inputs (None where omitted); returns its outputs."""
    if op in ("Add", "Sub", "Mul", "Div", "Pow"):
        l, r = x
        if op == "Div" and not l.is_floating_point():
            return [torch.div(l, r, rounding_mode="trunc")]
        return [{"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow}[op](l, r)]
    if op in ("Sqrt", "Erf", "Tanh", "Neg", "Reciprocal", "Identity", "Exp", "Ceil", "Log", "Relu", "Sigmoid", "Abs", "Not"):
        return [{"Sqrt": torch.sqrt, "Erf": torch.erf, "Tanh": torch.tanh, "Neg": torch.neg, "Reciprocal": torch.reciprocal, "Identity": lambda t: t,
                 "Exp": torch.exp, "Ceil": torch.ceil, "Log": torch.log, "Relu": torch.relu, "Sigmoid": torch.sigmoid, "Abs": torch.abs, "Not": torch.logical_not}[op](x[0])]
    if op in ("Greater", "Less", "GreaterOrEqual", "LessOrEqual"):
        return [{"Greater": torch.gt, "Less": torch.lt, "GreaterOrEqual": torch.ge, "LessOrEqual": torch.le}[op](x[0], x[1])]
    if op == "Where":
        return [torch.where(x[0], x[1], x[2])]
    if op in ("Sum", "Max"):
        t = x[0]
        for other in x[1:]:
            t = t + other if op == "Sum" else torch.maximum(t, other)
        return [t]
    if op == "Size":
        return [torch.tensor(x[0].numel(), dtype=torch.int64, device=x[0].device)]
    if op == "ConstantOfShape":
        value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, dtype=np.float32)
        fill = tensor(value.reshape(-1)[:1], x[0].device, float_dtype=float_dtype)
        return [fill.expand(ints(x[0])).clone() if x[0].numel() else fill.reshape(())]
    if op == "Pad":
        mode = a.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            raise NotImplementedError(f"Pad mode {mode}")
        pads = ints(x[1]) if opset >= 11 else list(a["pads"])
        value = (x[2].item() if len(x) > 2 and x[2] is not None else 0.0) if opset >= 11 else a.get("value", 0.0)
        rank = x[0].dim()
        # ONNX: all the begins, then all the ends; torch: (begin, end) pairs from the last axis.
        flat = [p for axis in reversed(range(rank)) for p in (pads[axis], pads[axis + rank])]
        return [torch.nn.functional.pad(x[0], flat, value=value)]
    if op == "ScatterND":
        data, index, updates = x
        depth = index.shape[-1]
        index = index.reshape(-1, depth)
        index = torch.where(index < 0, index + torch.tensor(data.shape[:depth], device=index.device), index)
        reduction = a.get("reduction", b"none")
        reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
        if reduction not in ("none", "add"):
            raise NotImplementedError(f"ScatterND with reduction {reduction}")
        rows = updates.reshape((index.shape[0],) + tuple(data.shape[depth:]))
        return [data.index_put(tuple(index[:, j] for j in range(depth)), rows, accumulate=reduction == "add")]
    if op in ("ScatterElements", "Scatter"):
        data, index, updates = x
        axis = a.get("axis", 0) % data.dim()
        index = torch.where(index < 0, index + data.shape[axis], index)
        reduction = a.get("reduction", b"none")
        reduction = reduction.decode() if isinstance(reduction, bytes) else reduction
        if reduction == "none":
            return [data.scatter(axis, index, updates)]
        if reduction == "add":
            return [data.scatter_add(axis, index, updates)]
        raise NotImplementedError(f"ScatterElements with reduction {reduction}")
    if op == "MatMul":
        return [torch.matmul(x[0], x[1])]
    if op == "Gemm":
        A = x[0].t() if a.get("transA", 0) else x[0]
        B = x[1].t() if a.get("transB", 0) else x[1]
        y = a.get("alpha", 1.0) * (A @ B)
        return [y + a.get("beta", 1.0) * x[2] if len(x) > 2 and x[2] is not None else y]
    if op in ("Softmax", "LogSoftmax"):
        return [softmax(x[0], a.get("axis", -1 if opset >= 13 else 1), opset, op == "LogSoftmax")]
    if op in ("ReduceSum", "ReduceMean", "ReduceProd"):
        axes_from_input = op == "ReduceSum" and opset >= 13 or opset >= 18
        axes = (ints(x[1]) if len(x) > 1 and x[1] is not None else []) if axes_from_input else list(a.get("axes", []))
        fn = {"ReduceSum": torch.sum, "ReduceMean": torch.mean, "ReduceProd": lambda t, dim, keepdim: _prod(t, dim, keepdim)}[op]
        return [reduce(x[0], axes, a.get("keepdims", 1), a.get("noop_with_empty_axes", 0), fn)]
    if op == "Transpose":
        perm = a.get("perm") or list(reversed(range(x[0].dim())))
        return [x[0].permute(*perm)]
    if op == "Reshape":
        shape = ints(x[1])
        if not a.get("allowzero", 0):
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [x[0].reshape(shape)]
    if op in ("Unsqueeze", "Squeeze"):
        axes = ints(x[1]) if opset >= 13 and len(x) > 1 and x[1] is not None else list(a.get("axes", []))
        t = x[0]
        if op == "Squeeze":
            if not axes:
                return [t.squeeze()]
            for axis in sorted((ax % t.dim() for ax in axes), reverse=True):
                t = t.squeeze(axis)
            return [t]
        rank = t.dim() + len(axes)
        for axis in sorted(ax % rank for ax in axes):
            t = t.unsqueeze(axis)
        return [t]
    if op == "Shape":
        dims = list(x[0].shape)[a.get("start", 0): a.get("end", None)]
        return [torch.tensor(dims, dtype=torch.int64, device=x[0].device)]
    if op == "Gather":
        data, index = x
        axis = a.get("axis", 0) % data.dim()
        index = torch.where(index < 0, index + data.shape[axis], index)
        picked = torch.index_select(data, axis, index.reshape(-1))
        return [picked.reshape(list(data.shape[:axis]) + list(index.shape) + list(data.shape[axis + 1:]))]
    if op == "Concat":
        return [torch.cat([t for t in x if t is not None], dim=a["axis"])]
    if op == "Slice":
        if opset >= 10:
            starts, ends = ints(x[1]), ints(x[2])
            axes = ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(len(starts)))
            steps = ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(starts)
        else:
            starts, ends = list(a["starts"]), list(a["ends"])
            axes, steps = list(a.get("axes", range(len(starts)))), [1] * len(starts)
        index = [slice(None)] * x[0].dim()
        for s, e, ax, st in zip(starts, ends, axes, steps):
            if st != 1:
                raise NotImplementedError(f"Slice with step {st}")
            n = x[0].shape[ax]
            s, e = (max(0, min(n, v + n if v < 0 else v)) for v in (s, e))
            index[ax] = slice(s, e)
        return [x[0][tuple(index)]]
    if op == "Range":
        start, limit, delta = (t.item() for t in x)
        return [torch.arange(start, limit, delta, dtype=x[0].dtype, device=x[0].device)]
    if op == "Equal":
        return [torch.eq(x[0], x[1])]
    if op == "Cast":
        return [x[0].to(float_dtype if a["to"] == onnx.TensorProto.FLOAT else DTYPES[a["to"]])]
    if op == "Min":
        t = x[0]
        for other in x[1:]:
            t = torch.minimum(t, other)
        return [t]
    if op == "Expand":
        shape = torch.broadcast_shapes(tuple(x[0].shape), tuple(ints(x[1])))
        return [x[0].expand(shape)]
    if op == "LayerNormalization":
        axis = a.get("axis", -1) % x[0].dim()
        shape = tuple(x[0].shape[axis:])
        bias = x[2] if len(x) > 2 and x[2] is not None else None
        return [torch.nn.functional.layer_norm(x[0], shape, x[1], bias, a.get("epsilon", 1e-5))]
    raise NotImplementedError(f"op {op} is not interpreted")


def _prod(t, dim, keepdim):
    for d in sorted(dim, reverse=True):
        t = torch.prod(t, dim=d, keepdim=keepdim)
    return t


def constant(a, device, float_dtype=torch.float64):
    if "value" in a:
        return tensor(numpy_helper.to_array(a["value"]), device, float_dtype=float_dtype)
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64), ("value_ints", np.int64)):
        if key in a:
            return tensor(np.array(a[key], dtype=dtype), device, float_dtype=float_dtype)
    raise NotImplementedError(f"Constant with {sorted(a)}")


def tensor(array, device, requires_grad=False, float_dtype=torch.float64):
    array = np.asarray(array)
    t = torch.from_numpy(array.copy()).to(device)
    t = t.to(float_dtype) if array.dtype == np.float32 else t
    return t.requires_grad_(True) if requires_grad else t


def evaluate(model, values, device, float_dtype):
    """Runs `model`'s nodes over `values` (name -> tensor: the initializers and inputs), in place."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    pending = list(model.graph.node)
    while pending:  # in graph order, but tolerating unsorted graphs
        waiting = []
        for node in pending:
            if any(n and n not in values for n in node.input):
                waiting.append(node)
                continue
            a = attributes(node)
            if node.domain not in ("", "ai.onnx"):
                raise NotImplementedError(f"op {node.domain}:{node.op_type} is not interpreted")
            outputs = [constant(a, device, float_dtype)] if node.op_type == "Constant" else run_node(node.op_type, a, [values[n] if n else None for n in node.input], opset, float_dtype)
            values.update(zip(node.output, outputs))
        if len(waiting) == len(pending):
            raise RuntimeError(f"{len(waiting)} nodes never get their inputs, e.g. {waiting[0].op_type} '{waiting[0].name}'")
        pending = waiting
    return values


class Interpreted:
    """A model held on `device` for repeated runs, like an inference session: run(feeds) -> outputs."""

    def __init__(self, path, device, float_dtype=torch.float32):
        self.model = onnx.load(path)  # follows external data from the model's folder
        self.device, self.float_dtype = device, float_dtype
        self.initializers = {t.name: tensor(numpy_helper.to_array(t), device, float_dtype=float_dtype) for t in self.model.graph.initializer}
        self.inputs = [i.name for i in self.model.graph.input if i.name not in self.initializers]
        self.outputs = [o.name for o in self.model.graph.output]

    def run(self, feeds):
        with torch.no_grad():
            values = dict(self.initializers)
            values.update({n: tensor(feeds[n], self.device, float_dtype=self.float_dtype) for n in self.inputs})
            values = evaluate(self.model, values, self.device, self.float_dtype)
            return {n: values[n].cpu().numpy() for n in self.outputs}


def autograd_gradients(eval_model_path, feeds, trainable, device):
    """The eval model's first output (the loss) and its gradient for each trainable parameter."""
    model = onnx.load(eval_model_path)  # follows external data (shared-base) from the model's folder
    values = {t.name: tensor(numpy_helper.to_array(t), device) for t in model.graph.initializer}
    leaves = {}
    for i in model.graph.input:
        if i.name in values and i.name not in feeds:
            continue
        leaves[i.name] = values[i.name] = tensor(feeds[i.name], device, requires_grad=i.name in trainable)
    values = evaluate(model, values, device, torch.float64)
    loss = values[model.graph.output[0].name]
    grads = torch.autograd.grad(loss, [leaves[n] for n in trainable], allow_unused=True)
    return float(loss.detach()), {n: (np.zeros(leaves[n].shape) if g is None else g.detach().cpu().numpy()) for n, g in zip(trainable, grads)}
