/**
 * tfjs activations as ONNX ops, following tfjs-layers' own definitions (activations.ts of
 * tfjs 4.22): gelu is the exact erf form, gelu_new the tanh approximation, hardSigmoid is
 * clip(0.2 x + 0.5, 0, 1), swish is x sigmoid(x).
 */
import type { OnnxGraph } from './graph';
import { onnxAxis, type Val } from './values';

export function applyActivation(g: OnnxGraph, activation: string | undefined | null, v: Val, base: string): Val {
  const name = activationName(activation);
  const out = (n: string): Val => ({ ...v, name: n });
  switch (name) {
    case 'linear':
      return v;
    case 'relu':
      return out(g.op('Relu', [v.name], {}, base));
    case 'relu6':
      return out(g.op('Clip', [v.name, g.scalar(0), g.scalar(6)], {}, base));
    case 'sigmoid':
      return out(g.op('Sigmoid', [v.name], {}, base));
    case 'tanh':
      return out(g.op('Tanh', [v.name], {}, base));
    case 'softmax':
      return out(g.op('Softmax', [v.name], { axis: onnxAxis(v, -1) }, base));
    case 'logsoftmax':
      return out(g.op('LogSoftmax', [v.name], { axis: onnxAxis(v, -1) }, base));
    case 'elu':
      return out(g.op('Elu', [v.name], { alpha: { float: 1 } }, base));
    case 'selu':
      return out(g.op('Selu', [v.name], {}, base));
    case 'softplus':
      return out(g.op('Softplus', [v.name], {}, base));
    case 'softsign':
      return out(g.op('Softsign', [v.name], {}, base));
    case 'hardsigmoid':
      return out(g.op('HardSigmoid', [v.name], { alpha: { float: 0.2 }, beta: { float: 0.5 } }, base));
    case 'swish':
      return out(g.op('Mul', [v.name, g.op('Sigmoid', [v.name])], {}, base));
    case 'mish':
      return out(g.op('Mul', [v.name, g.op('Tanh', [g.op('Softplus', [v.name])])], {}, base));
    case 'gelu': {
      // x * 0.5 * (1 + erf(x / sqrt 2))
      const erf = g.op('Erf', [g.op('Div', [v.name, g.scalar(Math.SQRT2)])]);
      const cdf = g.op('Mul', [g.op('Add', [erf, g.scalar(1)]), g.scalar(0.5)]);
      return out(g.op('Mul', [v.name, cdf], {}, base));
    }
    case 'gelu_new': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const x3 = g.op('Mul', [g.op('Mul', [v.name, v.name]), v.name]);
      const inner = g.op('Mul', [g.op('Add', [v.name, g.op('Mul', [x3, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
      const t = g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)]);
      return out(g.op('Mul', [g.op('Mul', [v.name, t]), g.scalar(0.5)], {}, base));
    }
    default:
      throw new Error(`activation "${activation}" has no ONNX conversion`);
  }
}

/** tfjs serialises activations by class name ('relu', 'hardSigmoid', 'gelu_new'...). */
function activationName(a: string | undefined | null): string {
  if (a === undefined || a === null) return 'linear';
  return a === 'gelu_new' ? a : a.toLowerCase();
}
