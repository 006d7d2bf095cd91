#version 330 core
// The frame's quad where the letterbox puts it (no vertex buffers: 4 corners from gl_VertexID, a triangle strip).
// The coordinates the fragment shader needs are interpolated here instead of derived from gl_FragCoord per pixel,
// which matters on software rasterisers.

uniform vec4 viewport;        // where the frame lands in the target, in target pixels from the top-left (x, y, width, height)
uniform vec2 target;          // the target's size in pixels
uniform int flipY;            // 1 when drawing to a window (GL's origin is bottom-left)
uniform vec4 heatRegion;      // the part of the frame the heatmap covers, in frame coordinates 0..1

out vec2 uv;                  // frame coordinates, 0..1, v = 0 at the top row
out vec2 hv;                  // heatmap coordinates, 0..1 inside its region

void main()
{
    vec2 corner = vec2(gl_VertexID & 1, (gl_VertexID >> 1) & 1);
    uv = corner;
    hv = (corner - heatRegion.xy) / heatRegion.zw;
    vec2 pixel = viewport.xy + corner * viewport.zw;          // from the top-left
    if (flipY == 1) pixel.y = target.y - pixel.y;
    gl_Position = vec4(pixel / target * 2.0 - 1.0, 0.0, 1.0);
}
