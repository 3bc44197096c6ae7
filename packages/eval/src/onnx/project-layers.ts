/**
 * Converters for the custom layers of this project's other packages, by class name and the
 * semantics their files document (they are not imported: eval does not depend on them):
 *   GroupNorm (ddpm)        torch.nn.GroupNorm on NHWC; config groups, epsilon; gamma, beta
 *   ContextMask (ddpm)      [c, mask] -> c * (1 - mask)
 *   Film (ddpm)             [h, scale, shift] -> h * scale[b,1,1,c] + shift[b,1,1,c]
 *   ScaledAdd (ddpm)        [a, b] -> (a + b) * scale
 *   DlcvBatchNorm2d (core)  PyTorch BatchNorm2d in eval mode; config eps; gamma, beta,
 *                           running_mean, running_var
 *   DlcvGelu (core)         exact GELU, as tfjs's 'gelu' activation
 */
import { applyActivation } from './activations';
import { groupNormConverter, registerOnnxConverter, type ConvertArgs } from './layers';
import { asNchw, type Val } from './values';

function inputsOf(args: ConvertArgs, n: number): Val[] {
  if (args.inputs.length !== n) throw new Error(`layer "${args.layer.name}" (${args.layer.getClassName()}) expects ${n} inputs, got ${args.inputs.length}`);
  return args.inputs;
}

function outShape(args: ConvertArgs): Val['shape'] {
  return args.outputShapes[0] ?? [];
}

registerOnnxConverter('GroupNorm', groupNormConverter);

registerOnnxConverter('ContextMask', (args) => {
  const { g, layer } = args;
  const [c, mask] = inputsOf(args, 2) as [Val, Val];
  const keep = g.op('Sub', [g.scalar(1), mask.name]);
  return [{ name: g.op('Mul', [c.name, keep], {}, layer.name), shape: outShape(args), nchw: c.nchw }];
});

registerOnnxConverter('Film', (args) => {
  const { g, layer } = args;
  const [h0, scale, shift] = inputsOf(args, 3) as [Val, Val, Val];
  const h = asNchw(g, h0);
  // [B, C] -> [B, C, 1, 1]: broadcast over H and W of the NCHW feature map.
  const asMap = (v: Val) => g.op('Unsqueeze', [v.name, g.int64('axes', [2, 3])]);
  const y = g.op('Add', [g.op('Mul', [h.name, asMap(scale)]), asMap(shift)], {}, layer.name);
  return [{ name: y, shape: outShape(args), nchw: h.nchw }];
});

registerOnnxConverter('ScaledAdd', (args) => {
  const { g, layer, config } = args;
  const [a0, b0] = inputsOf(args, 2) as [Val, Val];
  const a = asNchw(g, a0), b = asNchw(g, b0);
  const scale = config.scale as number;
  return [{ name: g.op('Mul', [g.op('Add', [a.name, b.name]), g.scalar(scale)], {}, layer.name), shape: outShape(args), nchw: a.nchw }];
});

registerOnnxConverter('DlcvBatchNorm2d', (args) => {
  const { g, layer, config } = args;
  const [x0] = inputsOf(args, 1) as [Val];
  const x = asNchw(g, x0);
  const w = (suffix: string) => {
    const v = args.weight(suffix);
    if (!v) throw new Error(`layer "${layer.name}" (DlcvBatchNorm2d) has no weight "${suffix}"`);
    return v.values;
  };
  const c = w('gamma').length;
  const inputs = [
    x.name,
    g.float(`${layer.name}.gamma`, w('gamma'), [c]),
    g.float(`${layer.name}.beta`, w('beta'), [c]),
    g.float(`${layer.name}.running_mean`, w('running_mean'), [c]),
    g.float(`${layer.name}.running_var`, w('running_var'), [c]),
  ];
  const epsilon = (config.eps ?? 1e-5) as number;
  return [{ name: g.op('BatchNormalization', inputs, { epsilon: { float: epsilon } }, layer.name), shape: outShape(args), nchw: x.nchw }];
});

registerOnnxConverter('DlcvGelu', (args) => {
  const [x] = inputsOf(args, 1) as [Val];
  return [{ ...applyActivation(args.g, 'gelu', x, args.layer.name), shape: outShape(args) }];
});
