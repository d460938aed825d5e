// faceapi_reference.mjs — reference outputs of @vladmandic/face-api 1.7.15
// (TensorFlow.js 4.22.0, pure-JS "cpu" back end, offline) for the face
// fixtures in tests/faces/ref/. Normally run through faceapi_reference.sh,
// which installs the pinned npm packages into a cache directory and passes
// --modules.
//
//   node tests/tools/faceapi_reference.mjs --modules NODE_MODULES_DIR
//        [--models MODEL_DIR] --out OUT_DIR [--fixed FIXED.json] [IMAGE...]
//
//   --modules  node_modules directory holding @vladmandic/face-api,
//              @tensorflow/tfjs(+-backend-wasm, only to satisfy face-api's
//              require; the cpu back end is selected), pngjs and jpeg-js
//   --models   directory with tiny_face_detector_model, face_landmark_68_model
//              and face_recognition_model (*-weights_manifest.json + .bin);
//              default: the model/ folder of the installed face-api package
//   --out      directory for one OUT/<image basename>.json per IMAGE
//   --fixed    also write the raw network outputs for the fixed synthetic
//              inputs (see fixedInputs() below) to this file
//   IMAGE      PNG (pngjs) or JPEG (jpeg-js) file, by magic bytes; decoded to
//              8-bit RGB (alpha dropped), passed as an int32 tensor3d [H,W,3]
//
// Each image fixture holds the image size and, per face in face-api's order,
// the result of
//   faceapi.detectAllFaces(t, new TinyFaceDetectorOptions({inputSize: 416,
//       scoreThreshold: 0.5})).withFaceLandmarks().withFaceDescriptors()
// plus the integer crops face-api cuts for the landmark and recognition nets
// (recomputed with face-api's own classes). Field meanings:
// tests/faces/ref/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

function usage(msg) {
  if (msg) process.stderr.write(`faceapi_reference: ${msg}\n`);
  process.stderr.write('usage: node faceapi_reference.mjs --modules DIR [--models DIR] --out DIR [--fixed FILE] [IMAGE...]\n');
  process.exit(2);
}

const args = { images: [] };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--modules' || k === '--models' || k === '--out' || k === '--fixed') {
      if (i + 1 >= a.length) usage(`${k} needs a value`);
      args[k.slice(2)] = a[++i];
    } else if (k.startsWith('--')) usage(`unknown option ${k}`);
    else args.images.push(k);
  }
}
if (!args.modules) usage('--modules is required');
if (args.images.length && !args.out) usage('--out is required with images');
if (!args.images.length && !args.fixed) usage('nothing to do');

const req = createRequire(path.join(path.resolve(args.modules), 'noop.js'));
// face-api.node-wasm.js is the package's CommonJS Node build on top of
// @tensorflow/tfjs (pure JS); it also registers the wasm back end, unused here.
const faceapi = req('@vladmandic/face-api/dist/face-api.node-wasm.js');
const { PNG } = req('pngjs');
const jpeg = req('jpeg-js');
const { tf } = faceapi;
const modelDir = args.models
  || path.join(path.dirname(req.resolve('@vladmandic/face-api/package.json')), 'model');

// ---- number formatting -------------------------------------------------
// float32 values (tensor outputs): shortest decimal that reads back to the
// same float32 (<= 9 significant digits). doubles (JS arithmetic on boxes,
// scores, landmark pixels): 12 significant digits.
function f32(x) {
  if (!Number.isFinite(x)) throw new Error(`non-finite value ${x}`);
  const t = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const s = Number(t.toPrecision(p));
    if (Math.fround(s) === t) return s;
  }
  return t;
}
function f64(x) {
  if (!Number.isFinite(x)) throw new Error(`non-finite value ${x}`);
  return Number(x.toPrecision(12));
}
const boxOf = (b) => [f64(b.x), f64(b.y), f64(b.width), f64(b.height)];
const intBoxOf = (b) => [b.x, b.y, b.width, b.height];

// ---- image decoding ----------------------------------------------------
function decodeImage(file) {
  const buf = fs.readFileSync(file);
  let width; let height; let data; let channels; let decoder;
  if (buf.length > 8 && buf.readUInt32BE(0) === 0x89504e47) {
    const png = PNG.sync.read(buf); // RGBA, 8 bit per channel
    ({ width, height, data } = png);
    channels = 4;
    decoder = 'pngjs';
  } else if (buf.length > 2 && buf[0] === 0xff && buf[1] === 0xd8) {
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
    ({ width, height, data } = img);
    channels = 3;
    decoder = 'jpeg-js';
  } else {
    throw new Error(`${file}: neither PNG nor JPEG`);
  }
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    rgb[3 * i] = data[j];
    rgb[3 * i + 1] = data[j + 1];
    rgb[3 * i + 2] = data[j + 2];
  }
  return { width, height, rgb, decoder };
}

// ---- JSON writer: compact, one face / one array per line ---------------
function writeJson(file, top, lineKeys) {
  const parts = Object.entries(top).map(([k, v]) => {
    if (lineKeys.includes(k) && Array.isArray(v)) {
      const rows = v.map((e) => `    ${JSON.stringify(e)}`);
      return `  ${JSON.stringify(k)}: [${rows.length ? `\n${rows.join(',\n')}\n  ` : ''}]`;
    }
    return `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`;
  });
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `{\n${parts.join(',\n')}\n}\n`);
}

function provenance() {
  return {
    'face-api': faceapi.version,
    tfjs: tf.version_core || (tf.version && tf.version['tfjs-core']),
    backend: tf.getBackend(),
  };
}

// ---- per image ---------------------------------------------------------
async function runImage(file) {
  const img = decodeImage(file);
  const W = img.width; const H = img.height;
  const t = tf.tensor3d(img.rgb, [H, W, 3], 'int32');
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
  const results = await faceapi.detectAllFaces(t, options).withFaceLandmarks().withFaceDescriptors();
  const checks = [];
  // Detector margin: the same 416 head output again, to show how far the
  // decision is from the threshold (for tolerances on the C side).
  const head = faceapi.nets.tinyFaceDetector.forwardInput(await faceapi.toNetInput(t), 416);
  const hv = head.dataSync();
  head.dispose();
  let candidates = 0; let maxRejected = 0;
  for (let i = 4; i < hv.length; i += 5) {
    const sc = faceapi.sigmoid(hv[i]);
    if (sc > 0.5) candidates++;
    else maxRejected = Math.max(maxRejected, sc);
  }
  const faces = results.map((r) => {
    const det = r.detection;
    // the crop the landmark net sees (extractFaceTensors on the detection)
    const lmCrop = det.forSize(W, H).box.clipAtImageBorders(W, H);
    // the rect and crop the recognition net sees (ComputeAllFaceDescriptorsTask)
    const dRect = r.landmarks.align(null, { useDlibAlignment: true });
    const dCrop = dRect.clipAtImageBorders(W, H);
    checks.push(selfCheck(t, r, lmCrop, dCrop));
    return {
      score: f64(det.score),
      box: boxOf(det.box),
      landmark_crop: intBoxOf(lmCrop),
      landmarks: r.landmarks.positions.map((p) => [f64(p.x), f64(p.y)]),
      aligned_rect: boxOf(r.alignedRect.box),
      descriptor_rect: intBoxOf(dRect),
      descriptor_crop: intBoxOf(dCrop),
      descriptor: Array.from(r.descriptor, f32),
    };
  });
  await Promise.all(checks);
  t.dispose();
  return {
    image: path.basename(file),
    decoder: img.decoder,
    width: W,
    height: H,
    detector: { input_size: 416, score_threshold: 0.5, candidates_above_threshold: candidates, max_rejected_score: f64(maxRejected) },
    faces,
  };
}

// Self-check: running the landmark and recognition nets on the recorded
// crops must reproduce face-api's landmarks and descriptor exactly, so the
// *_crop fields are the regions face-api really used.
async function selfCheck(t, r, lmCrop, dCrop) {
  const cut = (b) => tf.slice3d(t, [b.y, b.x, 0], [b.height, b.width, 3]);
  const face = cut(lmCrop);
  const lms = await faceapi.nets.faceLandmark68Net.detectLandmarks(face);
  face.dispose();
  const { x: sx, y: sy } = r.detection.box;
  const shifted = lms.shiftBy(sx, sy).positions;
  r.landmarks.positions.forEach((p, i) => {
    if (p.x !== shifted[i].x || p.y !== shifted[i].y) throw new Error(`self-check: landmark ${i} differs`);
  });
  const dface = cut(dCrop);
  const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(dface);
  dface.dispose();
  desc.forEach((v, i) => {
    if (v !== r.descriptor[i]) throw new Error(`self-check: descriptor ${i} differs`);
  });
}

// ---- fixed synthetic inputs --------------------------------------------
const PIXEL_RULE = 'p(y,x,c) = (x*3 + y*5 + c*7 + (x*y) % 13) % 256';
function synthetic(S) {
  const v = new Float32Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) v[(y * S + x) * 3 + c] = (x * 3 + y * 5 + c * 7 + ((x * y) % 13)) % 256;
    }
  }
  return tf.tensor3d(v, [S, S, 3], 'float32');
}
const flat = (tensor) => Array.from(tensor.dataSync(), f32);

async function fixedInputs() {
  const out = { faceapi: provenance(), pixel: PIXEL_RULE, layout: 'NHWC, row-major' };

  // (a) tiny face detector head, input 416x416 (no padding, no resize)
  const det = faceapi.nets.tinyFaceDetector;
  const t416 = synthetic(416);
  const in416 = await faceapi.toNetInput(t416);
  const head = det.forwardInput(in416, 416);
  out.detector = {
    input_size: 416,
    call: 'nets.tinyFaceDetector.forwardInput(await toNetInput(t), 416)',
    shape: head.shape,
    values: flat(head),
  };
  head.dispose();

  // (d) detector first layer: leaky(conv0 3x3 'valid' + bias) on
  // (x - meanRgb) / 255, replicating TinyYolov2Base.forwardInput/runMobilenet
  const conv0 = tf.tidy(() => {
    let x = tf.cast(in416.toBatchTensor(416, false), 'float32');
    const [r, g, b] = det.config.meanRgb;
    const mean = tf.concat([tf.fill([1, 416, 416, 1], r, 'float32'), tf.fill([1, 416, 416, 1], g, 'float32'),
      tf.fill([1, 416, 416, 1], b, 'float32')], 3);
    x = tf.sub(x, mean).div(255);
    const y = tf.add(tf.conv2d(x, det.params.conv0.filters, [1, 1], 'valid'), det.params.conv0.bias);
    const min = tf.mul(y, tf.scalar(0.10000000149011612));
    return tf.add(tf.relu(tf.sub(y, min)), min);
  });
  {
    const [, h, w, c] = conv0.shape;
    const vals = conv0.dataSync();
    let sum = 0; let sumAbs = 0;
    for (let i = 0; i < vals.length; i++) { sum += vals[i]; sumAbs += Math.abs(vals[i]); }
    const at = [0, 1, 2, 100, 207, h - 2, h - 1];
    const samples = [];
    for (const y of at) for (const x of at) samples.push([y, x, Array.from(vals.subarray(((y * w) + x) * c, ((y * w) + x + 1) * c), f32)]);
    out.detector_conv0 = {
      shape: conv0.shape,
      sum: f64(sum),
      sum_abs: f64(sumAbs),
      samples_format: '[y, x, [channel values]]',
      samples,
    };
  }
  conv0.dispose();
  t416.dispose();

  // (b) landmark net raw output (feature extractor + fc), before postProcess
  const t112 = synthetic(112);
  const lm = faceapi.nets.faceLandmark68Net.runNet(await faceapi.toNetInput(t112));
  out.landmark = {
    input_size: 112,
    call: 'nets.faceLandmark68Net.runNet(await toNetInput(t))',
    shape: lm.shape,
    values: flat(lm),
  };
  lm.dispose();
  t112.dispose();

  // (c) recognition net output (the descriptor for a 150x150 input)
  const t150 = synthetic(150);
  const rec = faceapi.nets.faceRecognitionNet.forwardInput(await faceapi.toNetInput(t150));
  out.recognition = {
    input_size: 150,
    call: 'nets.faceRecognitionNet.forwardInput(await toNetInput(t))',
    shape: rec.shape,
    values: flat(rec),
  };
  rec.dispose();
  t150.dispose();
  return out;
}

// ---- main ----------------------------------------------------------------
async function main() {
  if (!(await tf.setBackend('cpu'))) throw new Error('cannot select the tfjs cpu back end');
  await tf.ready();
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);

  for (const file of args.images) {
    const res = await runImage(file);
    const name = path.basename(file).replace(/\.[^.]*$/, '');
    const outFile = path.join(args.out, `${name}.json`);
    writeJson(outFile, { faceapi: provenance(), ...res }, ['faces']);
    const scores = res.faces.map((f) => f.score.toFixed(3)).join(' ');
    process.stderr.write(`${outFile}: ${res.width}x${res.height}, ${res.faces.length} faces [${scores}]\n`);
  }
  if (args.fixed) {
    writeJson(args.fixed, await fixedInputs(), []);
    process.stderr.write(`${args.fixed}: fixed inputs\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`faceapi_reference: ${e.stack || e}\n`);
  process.exit(1);
});
