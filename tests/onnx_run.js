// onnx_run.js ORT_DIR MODEL INPUT.bin DIMS OUT_DIR [BATCH]: runs an ONNX model under ONNX
// Runtime (the onnxruntime-node package installed in ORT_DIR, e.g. by fetch_onnxruntime.sh;
// CPU execution provider, default session options) on its one float32 input (whatever the
// model calls it: `images` for one expert, `image` for the fused model), read from INPUT.bin
// (raw little-endian float32, shape DIMS given as "N,3,S,S"). With BATCH, the N images run
// BATCH at a time (the outputs are joined along the first axis), so a whole test split fits
// in memory. Writes every output to OUT_DIR/<name>.bin as its raw little-endian data (all N
// rows) and prints one JSON line per output ({"name", "type", "dims"}). Exit 1 with a message
// on stderr when anything fails.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
    const [ortDir, model, input, dimsText, outDir, batchText] = process.argv.slice(2);
    if (!outDir) {
        throw new Error('usage: node onnx_run.js ORT_DIR MODEL INPUT.bin N,3,S,S OUT_DIR [BATCH]');
    }
    const ort = require(path.resolve(ortDir));
    const dims = dimsText.split(',').map(Number);
    if (dims.length < 1 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new Error(`bad shape ${dimsText}`);
    }
    const buf = fs.readFileSync(input);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const want = dims.reduce((a, b) => a * b, 1);
    if (data.length !== want) {
        throw new Error(`${input} holds ${data.length} floats, ${dimsText} needs ${want}`);
    }
    const n = dims[0];
    const batch = batchText === undefined ? n : Number(batchText);
    if (!Number.isInteger(batch) || batch < 1) {
        throw new Error(`bad batch size ${batchText}`);
    }
    const row = want / n;
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
    if (session.inputNames.length !== 1) {
        throw new Error(`${model} has ${session.inputNames.length} inputs, not one`);
    }
    const parts = {}; // output name -> { type, dims, chunks }
    for (let first = 0; first < n; first += batch) {
        const count = Math.min(batch, n - first);
        const chunk = data.subarray(first * row, (first + count) * row);
        const feeds = {};
        feeds[session.inputNames[0]] = new ort.Tensor('float32', chunk, [count, ...dims.slice(1)]);
        const results = await session.run(feeds);
        for (const name of session.outputNames) {
            const t = results[name];
            if (!parts[name]) {
                parts[name] = { type: t.type, dims: t.dims.slice(), chunks: [] };
            }
            // a copy: the next run may reuse the runtime's memory
            parts[name].chunks.push(Buffer.from(new Uint8Array(t.data.buffer, t.data.byteOffset,
                t.data.byteLength)));
        }
    }
    for (const name of session.outputNames) {
        const p = parts[name];
        p.dims[0] = n;
        fs.writeFileSync(path.join(outDir, name + '.bin'), Buffer.concat(p.chunks));
        console.log(JSON.stringify({ name, type: p.type, dims: p.dims }));
    }
}

main().catch((e) => {
    console.error('onnx_run: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
