#!/usr/bin/env python3
"""Export pytorch-fid's InceptionV3 (the FID weights, pool3 2048-d) to ONNX for dlcv-eval.

With this file `dlcv-eval fid` computes the assignment's FID; without it, it falls back to
other networks and labels the number "FD[...] ... NOT Inception FID". This needs Python,
PyTorch and internet access (pytorch-fid downloads pt_inception-2015-12-05-6726825d.pth from
its GitHub releases on first use), so it cannot run on the project's own machines:

    pip install torch pytorch-fid onnx onnxruntime
    python3 tools/eval-export-inception.py pt_inception.onnx

Then either pass `--inception pt_inception.onnx`, set DLCV_INCEPTION_ONNX, or copy it to
packages/eval/assets/pt_inception.onnx (ignored by git: about 95 MB).

The file takes `images` [N, 3, H, W] float32 RGB in [0, 1] (any H, W; NCHW), and does inside
the graph what pytorch-fid's InceptionV3(resize_input=True, normalize_input=True) does:
bilinear resize to 299x299 (align_corners=False, no antialias) and scaling to [-1, 1]. It gives
`pool3` [N, 2048]. dlcv-eval feeds it the decoded PNG pixels / 255, as pytorch-fid's ToTensor().
"""
import argparse
import sys

import torch
import torch.nn as nn
from pytorch_fid.inception import InceptionV3


class Pool3(nn.Module):
    def __init__(self):
        super().__init__()
        block = InceptionV3.BLOCK_INDEX_BY_DIM[2048]
        self.inception = InceptionV3([block], resize_input=True, normalize_input=True)

    def forward(self, images):
        return self.inception(images)[0].flatten(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('output', help='ONNX file to write, e.g. pt_inception.onnx')
    args = parser.parse_args()

    model = Pool3().eval()
    dummy = torch.rand(2, 3, 64, 64)
    torch.onnx.export(
        model, dummy, args.output, opset_version=17,
        input_names=['images'], output_names=['pool3'],
        dynamic_axes={'images': {0: 'batch', 2: 'height', 3: 'width'}, 'pool3': {0: 'batch'}},
    )
    try:
        import onnxruntime as ort
    except ImportError:
        print(f'wrote {args.output} (onnxruntime not installed: output not checked)')
        return
    sess = ort.InferenceSession(args.output, providers=['CPUExecutionProvider'])
    worst = 0.0
    for h, w in [(64, 64), (28, 28), (299, 299)]:
        x = torch.rand(3, 3, h, w)
        with torch.no_grad():
            want = model(x).numpy()
        got = sess.run(['pool3'], {'images': x.numpy()})[0]
        worst = max(worst, float(abs(want - got).max() / max(abs(want).max(), 1e-12)))
    print(f'wrote {args.output}; max relative |ORT - torch| over 64, 28 and 299 px inputs: {worst:.2e}')
    if worst > 1e-4:
        sys.exit('the exported file does not match pytorch-fid')


if __name__ == '__main__':
    main()
