"""Measures a design adapterc does not use: per-layer recomputation in the step model.

The step model keeps every activation its backward pass reads (the FFN's pre-GELU values, attention
probabilities, LayerNorm and adapter inputs) from the forward pass to the backward pass. This script
rewrites a compiled step_model.onnx so that the backward pass of each encoder layer but the last
reads a recomputed copy of that layer's forward values instead, starting from the layer's input;
the forward values then die as soon as the forward pass is done with them. What it costs (one more
forward pass of every layer but the last) and what it saves (peak RSS of `adapterc train`) is what
the README's memory paragraph quotes.

Three things make the recomputation happen late and stay separate:
- each recomputed layer starts from Expand(layer input, Shape(gradient of the layer's output)), so it
  cannot run before the backward pass reaches that layer;
- that Expand also keeps ONNX Runtime's common-subexpression elimination from merging the copies
  with the forward nodes (their inputs differ);
- the last layer is left as it is: its backward pass starts right after its forward pass anyway.

It recognizes the layers of ../shared/scripts/export_bert.py's torch exports by their node names
(`/layers.N/...` for the encoder, `adapters.layer.N.` for adapterc's adapters, `/layers.N/ln2/Add_1`
for a layer's output); other exports are refused. Not part of the product: a measurement tool.

    interop/.venv/bin/python bench/recompute.py ARTIFACTS OUT

writes OUT with the rewritten step_model.onnx and the other files of ARTIFACTS linked (or copied):
ONNX Runtime reads the frozen base from the checkpoint beside the step model. Train both folders
with `node bench/tasks/train.mjs FOLDER --train ... --vocab ... --batch-size 8 --max-steps 20`.
"""
import os
import re
import shutil
import sys

import onnx
from onnx import helper

LAYER_OUTPUT = re.compile(r'^/layers\.(\d+)/ln2/Add_1_output_0$')
LAYER_VALUE = re.compile(r'^(?:/layers\.|adapters\.layer\.)(\d+)[./]')


def layer_of(value):
    m = LAYER_VALUE.match(value)
    return int(m.group(1)) if m else None


def recompute(model):
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    position = {out: i for i, node in enumerate(graph.node) for out in node.output}

    # The forward pass: every node the loss (the step model's first output) depends on.
    forward, stack = set(), [graph.output[0].name]
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in forward:
            continue
        forward.add(id(node))
        stack.extend(i for i in node.input if i)

    outputs = {int(m.group(1)): v for v in position if (m := LAYER_OUTPUT.match(v))}
    if len(outputs) < 2:
        raise SystemExit("recompute.py: no '/layers.N/ln2/Add_1' layer outputs: not a torch export of export_bert.py")
    last = max(outputs)
    # A layer's trigger: the last-built gradient of its output (the sum of all its contributions).
    trigger = {}
    for layer, out in outputs.items():
        grads = [v for v in position if re.fullmatch(re.escape(out) + r'\.grad(_\d+)?', v)]
        if grads:
            trigger[layer] = max(grads, key=lambda v: position[v])
    layer_input = {layer + 1: out for layer, out in outputs.items()}

    added, copies = [], {}

    def is_activation(value):
        node = producer.get(value)
        return node is not None and id(node) in forward and node.op_type != 'Constant'

    def copy_of(value, layer):
        if (layer, value) in copies:
            return copies[(layer, value)]
        if value == layer_input.get(layer):
            shape = f'{value}.recompute{layer}.shape'
            added.append(helper.make_node('Shape', [trigger[layer]], [shape], name=shape))
            added.append(helper.make_node('Expand', [value, shape], [f'{value}.recompute{layer}'], name=f'{value}.recompute{layer}'))
            copies[(layer, value)] = f'{value}.recompute{layer}'
            return copies[(layer, value)]
        if not is_activation(value) or layer_of(value) != layer:
            return value  # weights, constants, and values shared by all layers (the attention mask)
        node = producer[value]
        inputs = [copy_of(i, layer) if i else i for i in node.input]
        clone = helper.make_node(node.op_type, inputs, [f'{o}.recompute{layer}' if o else o for o in node.output], name=f'{node.name}.recompute{layer}', domain=node.domain)
        clone.attribute.extend(node.attribute)
        added.append(clone)
        for o in node.output:
            copies[(layer, o)] = f'{o}.recompute{layer}'
        return copies[(layer, value)]

    rewired = 0
    for node in graph.node:
        if id(node) in forward:
            continue
        for k, value in enumerate(node.input):
            layer = layer_of(value) if value else None
            if layer is None or layer == last or layer not in trigger or value == outputs.get(layer) or not is_activation(value):
                continue
            node.input[k] = copy_of(value, layer)
            rewired += 1

    # Sorted again: every node after the producers of its inputs, the original order kept otherwise.
    available = {v.name for v in graph.input} | {t.name for t in graph.initializer} | {''}
    pending, ordered = list(graph.node) + added, []
    while pending:
        rest = []
        for n in pending:
            if all(i in available for i in n.input):
                ordered.append(n)
                available.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise SystemExit('recompute.py: the rewritten graph has a cycle')
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)
    return rewired, len(added)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    if os.path.exists(out):
        raise SystemExit(f'recompute.py: {out} exists; give a new folder')
    model = onnx.load(os.path.join(source, 'step_model.onnx'), load_external_data=False)
    rewired, added = recompute(model)
    os.makedirs(out)
    for name in os.listdir(source):
        if name == 'step_model.onnx' or not os.path.isfile(os.path.join(source, name)):
            continue
        try:
            os.link(os.path.join(source, name), os.path.join(out, name))
        except OSError:
            shutil.copy2(os.path.join(source, name), os.path.join(out, name))
    onnx.save(model, os.path.join(out, 'step_model.onnx'))
    print(f'{out}: {rewired} backward inputs read recomputed values; {added} nodes added')


if __name__ == '__main__':
    main()
