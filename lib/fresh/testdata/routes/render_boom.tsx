export default function RenderBoom(): never {
  throw new Error("boom from render");
}
