#version 330 core
// The video frame, letterboxed, with the explanation heatmap blended over it.
// Colour rule (the CPU reference in the tests uses the same): h below the threshold shows the video;
// otherwise mix(video, colormap(h), opacity).

uniform sampler2D video;      // BGR bytes uploaded as RGB: swizzled here
uniform sampler2D heat;       // the small float map, upsampled by bilinear filtering
uniform int hasHeat;
uniform int mode;             // 0 blend, 1 heatmap only, 2 video only, 3 interesting region
uniform int colormap;         // row of the colormap table: 0 jet, 1 turbo, 2 viridis, 3 inferno
uniform float opacity;
uniform float threshold;
uniform sampler2D dream;      // a DeepDream of the frame (BGR bytes as RGB), shown in place of the video over the heat region
uniform int hasDream;
uniform int exactVideo;       // 1 when frame pixels map 1:1 onto target pixels: fetched, not filtered (cheaper on software GL)

in vec2 uv;                   // frame coordinates (video.vert)
in vec2 hv;                   // heatmap coordinates

out vec4 colour;

// The colormaps are OpenCV's 256-entry tables, one row each; like cv::applyColorMap on the 8-bit map,
// the heat value is rounded to an entry.
uniform sampler2D colormaps;

vec3 colourOf(float t)
{
    return texelFetch(colormaps, ivec2(int(t * 255.0 + 0.5), colormap), 0).rgb;
}

void main()
{
    vec3 rgb = exactVideo == 1 ? texelFetch(video, ivec2(uv * vec2(textureSize(video, 0))), 0).bgr : texture(video, uv).bgr;
    bool inRegion = all(greaterThanEqual(hv, vec2(0.0))) && all(lessThanEqual(hv, vec2(1.0)));
    if (hasDream == 1 && inRegion) rgb = texture(dream, hv).bgr;
    float h = -1.0;
    if (hasHeat == 1 && mode != 2 && all(greaterThanEqual(hv, vec2(0.0))) && all(lessThanEqual(hv, vec2(1.0))))
        h = texture(heat, hv).r;
    if (mode == 2 || h < 0.0) colour = vec4(rgb, 1.0);
    else if (mode == 3) colour = vec4(h >= threshold ? rgb : vec3(0.0), 1.0);
    else if (h < threshold) colour = vec4(mode == 1 ? vec3(0.0) : rgb, 1.0);
    else {
        vec3 mapped = colourOf(clamp(h, 0.0, 1.0));
        colour = vec4(mode == 1 ? mapped : mix(rgb, mapped, opacity), 1.0);
    }
}
