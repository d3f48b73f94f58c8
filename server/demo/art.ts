import { crc32, deflateSync } from "node:zlib";

/**
 * Demo artwork drawn here, without the network: three 512×512 PNGs in
 * traditional palettes. The encoder writes truecolour PNG (RFC 2083) with
 * unfiltered scanlines, which every viewer reads.
 */
type Pixel = [number, number, number];
type Painter = (x: number, y: number, size: number) => Pixel;

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function encodePng(size: number, paint: Painter): Buffer {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b] = paint(x, y, size);
      const at = row + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
const mix = (a: Pixel, b: Pixel, t: number): Pixel => [
  clamp(a[0] + (b[0] - a[0]) * t),
  clamp(a[1] + (b[1] - a[1]) * t),
  clamp(a[2] + (b[2] - a[2]) * t),
];
/** Cheap deterministic grain, so flat areas look like paper or stone. */
const grain = (x: number, y: number) => ((Math.sin(x * 12.9898 + y * 78.233) * 43758.5453) % 1) * 10;

/** 青绿山水: layered blue-green mountains under a silk-coloured sky. */
const landscape: Painter = (x, y, size) => {
  const u = x / size;
  const v = y / size;
  let colour = mix([236, 224, 196], [214, 196, 160], v);
  const layers: { base: number; amp: number; freq: number; phase: number; tone: Pixel }[] = [
    { base: 0.45, amp: 0.12, freq: 2.1, phase: 0.3, tone: [120, 160, 150] },
    { base: 0.58, amp: 0.1, freq: 3.3, phase: 1.7, tone: [52, 122, 112] },
    { base: 0.72, amp: 0.08, freq: 4.7, phase: 2.9, tone: [30, 86, 96] },
  ];
  for (const layer of layers) {
    const ridge = layer.base - layer.amp * Math.abs(Math.sin(u * Math.PI * layer.freq + layer.phase));
    if (v > ridge) colour = mix(layer.tone, [20, 50, 60], Math.min(1, (v - ridge) * 2.5));
  }
  const sun = Math.hypot(u - 0.74, v - 0.2);
  if (sun < 0.07) colour = [178, 48, 40];
  const g = grain(x, y);
  return [clamp(colour[0] + g), clamp(colour[1] + g), clamp(colour[2] + g)];
};

/** 玉璧: a jade disc with a centre hole and concentric grain. */
const jadeDisc: Painter = (x, y, size) => {
  const dx = x / size - 0.5;
  const dy = y / size - 0.5;
  const r = Math.hypot(dx, dy);
  const background = mix([40, 30, 26], [70, 46, 34], y / size);
  if (r > 0.42 || r < 0.12) return background;
  const rings = 0.5 + 0.5 * Math.sin(r * 140 + Math.sin(Math.atan2(dy, dx) * 6) * 0.6);
  const jade = mix([64, 128, 92], [170, 214, 178], rings * 0.6 + (0.42 - r));
  const edge = Math.min(1, Math.min(0.42 - r, r - 0.12) * 60);
  return mix(background, jade, edge);
};

/** 海水江崖: stacked waves in indigo and gold, as on court robes. */
const waves: Painter = (x, y, size) => {
  const u = x / size;
  const v = y / size;
  const band = Math.floor(v * 12);
  const local = (v * 12) % 1;
  const crest = 0.5 + 0.35 * Math.sin((u * 8 + band * 0.5) * Math.PI);
  const palette: Pixel[] = [
    [26, 42, 108],
    [40, 82, 150],
    [222, 186, 92],
    [236, 232, 214],
  ];
  const tone = palette[band % palette.length]!;
  if (local > crest) return mix(tone, [14, 22, 60], (local - crest) * 1.5);
  const rock = Math.abs(u - 0.5) < 0.08 * (1 - v) + 0.02 && v < 0.55;
  return rock ? [120, 92, 60] : tone;
};

export const demoArtworks = {
  landscape: () => encodePng(512, landscape),
  jadeDisc: () => encodePng(512, jadeDisc),
  waves: () => encodePng(512, waves),
};
