#version 330 core
// Screen-space quads (text, bars, bands): positions in target pixels from the top-left.
layout(location = 0) in vec2 position;
layout(location = 1) in vec2 texcoord;
layout(location = 2) in vec4 tint;

uniform vec2 targetSize;
uniform int flipY;   // 1 for a window: GL's origin is bottom-left

out vec2 uv;
out vec4 colour;

void main()
{
    vec2 ndc = position / targetSize * 2.0 - 1.0;
    if (flipY == 1) ndc.y = -ndc.y;
    gl_Position = vec4(ndc, 0.0, 1.0);
    uv = texcoord;
    colour = tint;
}
