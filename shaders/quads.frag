#version 330 core
// The atlas holds glyph coverage; solid quads point at its white corner.
uniform sampler2D atlas;
in vec2 uv;
in vec4 colour;
out vec4 result;

void main()
{
    result = vec4(colour.rgb, colour.a * texture(atlas, uv).r);
}
