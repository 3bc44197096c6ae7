#!/usr/bin/env python3
"""Export the course's digit classifier (Classifier.pth of the DLCV HW2 repository) to ONNX.

`dlcv-eval digits --model FILE` and `dlcv-eval fid --features digit-classifier --model FILE`
then grade with the official weights instead of the network this project trains. This cannot
run on the project's own machines (no torch there); on a machine with Python:

    pip install torch onnx onnxruntime
    python3 tools/eval-export-classifier.py Classifier.pth classifier-course.onnx

The ONNX file has one input and two outputs:
    input     [N, 3, 28, 28] float32, NCHW, pixels normalised as the course's script does:
              ToTensor() then Normalize(0.5, 0.5), i.e. (x / 255 - 0.5) / 0.5
    logits    [N, 10]
    features  [N, 64]  fc2 after ReLU (the penultimate layer, for the digit Fréchet distance)
dlcv-eval recognises the NCHW layout from the input shape.
"""
import argparse
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    """The architecture of SPEC.md; attribute names as in the course's digit_classifier.py, so
    its state_dict loads with strict key checking."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        features = F.relu(self.fc2(x))
        return self.fc3(features), features


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help="Classifier.pth (a state_dict, or a dict with 'state_dict')")
    parser.add_argument('output', help='ONNX file to write')
    args = parser.parse_args()

    state = torch.load(args.checkpoint, map_location='cpu')
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    model = Classifier()
    model.load_state_dict(state, strict=True)
    model.eval()

    dummy = torch.rand(2, 3, 28, 28) * 2 - 1
    torch.onnx.export(
        model, dummy, args.output, opset_version=17,
        input_names=['input'], output_names=['logits', 'features'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}, 'features': {0: 'batch'}},
    )
    try:
        import onnxruntime as ort
    except ImportError:
        print(f'wrote {args.output} (onnxruntime not installed: output not checked)')
        return
    sess = ort.InferenceSession(args.output, providers=['CPUExecutionProvider'])
    x = torch.rand(8, 3, 28, 28) * 2 - 1
    want = model(x)[0].detach().numpy()
    got = sess.run(['logits'], {'input': x.numpy()})[0]
    err = abs(want - got).max()
    print(f'wrote {args.output}; max |ORT - torch| on random inputs: {err:.2e}')
    if err > 1e-4:
        sys.exit('the exported file does not match the PyTorch model')


if __name__ == '__main__':
    main()
