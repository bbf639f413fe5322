// The 62 parameter shapes of torchvision's ResNet-18 (11,689,512 values), in PyTorch order.
// The 21 weights of rank > 1 (20 convolutions and the final dense layer) are what GC touches.

/** Parameter `{ name, shape }` list; out-first shapes (PyTorch), or out-last (TF.js) with `"out-last"`. */
export function resnet18Parameters(layout = "out-first") {
  const params = [];
  const conv = (name, out, inp, k) =>
    params.push({ name: `${name}.weight`, shape: layout === "out-first" ? [out, inp, k, k] : [k, k, inp, out] });
  const bn = (name, n) => params.push({ name: `${name}.weight`, shape: [n] }, { name: `${name}.bias`, shape: [n] });
  conv("conv1", 64, 3, 7);
  bn("bn1", 64);
  let inp = 64;
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let block = 0; block < 2; block++) {
      const prefix = `layer${stage + 1}.${block}`;
      const stride2 = stage > 0 && block === 0;
      conv(`${prefix}.conv1`, width, inp, 3);
      bn(`${prefix}.bn1`, width);
      conv(`${prefix}.conv2`, width, width, 3);
      bn(`${prefix}.bn2`, width);
      if (stride2) {
        conv(`${prefix}.downsample.0`, width, inp, 1);
        bn(`${prefix}.downsample.1`, width);
      }
      inp = width;
    }
  });
  params.push({ name: "fc.weight", shape: layout === "out-first" ? [1000, 512] : [512, 1000] });
  params.push({ name: "fc.bias", shape: [1000] });
  return params;
}
