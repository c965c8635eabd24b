// onnx_run.js ORT_DIR MODEL INPUT.bin DIMS OUT_DIR: runs an ONNX model under ONNX Runtime
// (the onnxruntime-node package installed in ORT_DIR, CPU execution provider, default
// session options) on one float32 input called `images`, read from INPUT.bin (raw
// little-endian float32, shape DIMS given as "N,3,S,S"). Writes every output to
// OUT_DIR/<name>.bin as its raw little-endian data and prints one JSON line per output
// ({"name", "type", "dims"}). Exit 1 with a message on stderr when anything fails.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
    const [ortDir, model, input, dimsText, outDir] = process.argv.slice(2);
    if (!outDir) {
        throw new Error('usage: node onnx_run.js ORT_DIR MODEL INPUT.bin N,3,S,S OUT_DIR');
    }
    const ort = require(path.resolve(ortDir));
    const dims = dimsText.split(',').map(Number);
    const buf = fs.readFileSync(input);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const want = dims.reduce((a, b) => a * b, 1);
    if (data.length !== want) {
        throw new Error(`${input} holds ${data.length} floats, ${dimsText} needs ${want}`);
    }
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
    const results = await session.run({ images: new ort.Tensor('float32', data, dims) });
    for (const name of session.outputNames) {
        const t = results[name];
        const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
        fs.writeFileSync(path.join(outDir, name + '.bin'), bytes);
        console.log(JSON.stringify({ name, type: t.type, dims: t.dims }));
    }
}

main().catch((e) => {
    console.error('onnx_run: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
