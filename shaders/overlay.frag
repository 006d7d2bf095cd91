#version 330 core
// The video frame, letterboxed, with the explanation heatmap blended over it.
// Colour rule (the CPU reference in the tests uses the same): h below the threshold shows the video;
// otherwise mix(video, colormap(h), opacity).

uniform sampler2D video;      // BGR bytes uploaded as RGB: swizzled here
uniform sampler2D heat;       // the small float map, upsampled by bilinear filtering
uniform vec4 viewport;        // where the frame lands in the target, in target pixels (x, y, width, height)
uniform vec4 heatRegion;      // the part of the frame the map covers, in frame coordinates 0..1
uniform float targetHeight;
uniform int flipY;            // 1 when drawing to a window (GL's origin is bottom-left)
uniform int hasHeat;
uniform int mode;             // 0 blend, 1 heatmap only, 2 video only, 3 interesting region
uniform int colormap;         // row of the colormap table: 0 jet, 1 turbo, 2 viridis, 3 inferno
uniform float opacity;
uniform float threshold;

out vec4 colour;

// The colormaps are OpenCV's 256-entry tables, one row each, read with linear filtering along the row.
uniform sampler2D colormaps;

vec3 colourOf(float t)
{
    return texture(colormaps, vec2((t * 255.0 + 0.5) / 256.0, (float(colormap) + 0.5) / 4.0)).rgb;
}

void main()
{
    vec2 p = gl_FragCoord.xy;
    if (flipY == 1) p.y = targetHeight - p.y;
    vec2 uv = (p - viewport.xy) / viewport.zw;
    if (any(lessThan(uv, vec2(0.0))) || any(greaterThan(uv, vec2(1.0)))) {
        colour = vec4(0.0, 0.0, 0.0, 1.0);   // letterbox bars
        return;
    }
    vec3 rgb = texture(video, uv).bgr;
    float h = -1.0;
    if (hasHeat == 1) {
        vec2 hv = (uv - heatRegion.xy) / heatRegion.zw;
        if (all(greaterThanEqual(hv, vec2(0.0))) && all(lessThanEqual(hv, vec2(1.0))))
            h = texture(heat, hv).r;
    }
    vec3 mapped = colourOf(clamp(h, 0.0, 1.0));
    if (mode == 2 || h < 0.0) colour = vec4(rgb, 1.0);
    else if (mode == 1) colour = vec4(h >= threshold ? mapped : vec3(0.0), 1.0);
    else if (mode == 3) colour = vec4(h >= threshold ? rgb : vec3(0.0), 1.0);
    else colour = vec4(h < threshold ? rgb : mix(rgb, mapped, opacity), 1.0);
}
