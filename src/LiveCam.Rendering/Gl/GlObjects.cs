using OpenCvSharp;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Gl;

/// <summary>One GL object with one owner: deleted on dispose (on the GL thread), a second dispose does
/// nothing.</summary>
public abstract class GlObject : IDisposable
{
    static long s_live;

    protected GlObject(GL gl)
    {
        Gl = gl ?? throw new ArgumentNullException(nameof(gl));
        Interlocked.Increment(ref s_live);
    }

    protected GL Gl { get; }
    public uint Handle { get; protected set; }

    /// <summary>GL objects created and not yet deleted, process-wide: a leak shows as growth.</summary>
    public static long Live => Interlocked.Read(ref s_live);

    protected abstract void Delete();

    public void Dispose()
    {
        if (Handle == 0) return;
        Delete();
        Handle = 0;
        Interlocked.Decrement(ref s_live);
        GC.SuppressFinalize(this);
    }
}

/// <summary>A 2D texture reallocated only when its size changes.</summary>
public sealed class GlTexture : GlObject
{
    public int Width { get; private set; }
    public int Height { get; private set; }

    public GlTexture(GL gl, TextureMinFilter filter) : base(gl)
    {
        Handle = gl.GenTexture();
        gl.BindTexture(TextureTarget.Texture2D, Handle);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMinFilter, (int)filter);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMagFilter,
            (int)(filter == TextureMinFilter.Nearest ? TextureMagFilter.Nearest : TextureMagFilter.Linear));
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapS, (int)TextureWrapMode.ClampToEdge);
        gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapT, (int)TextureWrapMode.ClampToEdge);
    }

    /// <summary>Uploads a BGR 8-bit image as it is (the shader swizzles); row 0 of the image is t = 0.</summary>
    public unsafe void UploadBgr(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Type() != MatType.CV_8UC3) throw new ArgumentException($"expected BGR 8-bit, got {image.Type()}");
        Gl.BindTexture(TextureTarget.Texture2D, Handle);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
        Gl.PixelStore(PixelStoreParameter.UnpackRowLength, (int)(image.Step() / 3));
        if (Width != image.Width || Height != image.Height)
        {
            (Width, Height) = (image.Width, image.Height);
            Gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.Rgb8, (uint)Width, (uint)Height, 0,
                PixelFormat.Rgb, PixelType.UnsignedByte, (void*)image.Data);
        }
        else
        {
            Gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)Width, (uint)Height, PixelFormat.Rgb,
                PixelType.UnsignedByte, (void*)image.Data);
        }
        Gl.PixelStore(PixelStoreParameter.UnpackRowLength, 0);
    }

    /// <summary>BGR bytes, row-major without padding, as an RGB texture (swizzled in the shader, as video
    /// is).</summary>
    public unsafe void UploadBgr(byte[] pixels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"{pixels.Length} bytes for {width}x{height} BGR");
        Gl.BindTexture(TextureTarget.Texture2D, Handle);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
        Gl.PixelStore(PixelStoreParameter.UnpackRowLength, 0);
        fixed (byte* data = pixels)
        {
            if (Width != width || Height != height)
            {
                (Width, Height) = (width, height);
                Gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.Rgb8, (uint)width, (uint)height, 0,
                    PixelFormat.Rgb, PixelType.UnsignedByte, data);
            }
            else
                Gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)width, (uint)height, PixelFormat.Rgb,
                    PixelType.UnsignedByte, data);
        }
    }

    /// <summary>Uploads a single-channel float map at its own resolution (the GPU upsamples it).</summary>
    public unsafe void UploadFloat(float[] values, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != width * height)
            throw new ArgumentException($"{values.Length} values for {width}x{height}");
        Gl.BindTexture(TextureTarget.Texture2D, Handle);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 4);
        fixed (float* data = values)
        {
            if (Width != width || Height != height)
            {
                (Width, Height) = (width, height);
                Gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.R32f, (uint)width, (uint)height, 0,
                    PixelFormat.Red, PixelType.Float, data);
            }
            else
            {
                Gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)width, (uint)height, PixelFormat.Red,
                    PixelType.Float, data);
            }
        }
    }

    /// <summary>Uploads single-channel 8-bit pixels (the glyph atlas), row-major.</summary>
    public unsafe void UploadGrey(byte[] pixels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height) throw new ArgumentException($"{pixels.Length} bytes for {width}x{height}");
        Gl.BindTexture(TextureTarget.Texture2D, Handle);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
        (Width, Height) = (width, height);
        fixed (byte* data = pixels)
            Gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.R8, (uint)Width, (uint)Height, 0, PixelFormat.Red,
                PixelType.UnsignedByte, data);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 4);
    }

    /// <summary>Uploads a small RGB float table (colormaps); allocated once.</summary>
    public unsafe void UploadRgbFloat(float[] values, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != width * height * 3)
            throw new ArgumentException($"{values.Length} values for {width}x{height} RGB");
        Gl.BindTexture(TextureTarget.Texture2D, Handle);
        Gl.PixelStore(PixelStoreParameter.UnpackAlignment, 4);
        (Width, Height) = (width, height);
        fixed (float* data = values)
            Gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.Rgb32f, (uint)width, (uint)height, 0,
                PixelFormat.Rgb, PixelType.Float, data);
    }

    protected override void Delete() => Gl.DeleteTexture(Handle);
}

/// <summary>An offscreen RGBA8 target, and its readback into a BGR image.</summary>
public sealed class GlFramebuffer : GlObject
{
    readonly GlTexture _colour;

    public int Width { get; }
    public int Height { get; }

    public unsafe GlFramebuffer(GL gl, int width, int height) : base(gl)
    {
        Width = width;
        Height = height;
        _colour = new GlTexture(gl, TextureMinFilter.Nearest);
        gl.TexImage2D(TextureTarget.Texture2D, 0, InternalFormat.Rgba8, (uint)width, (uint)height, 0, PixelFormat.Rgba,
            PixelType.UnsignedByte, null);
        Handle = gl.GenFramebuffer();
        gl.BindFramebuffer(FramebufferTarget.Framebuffer, Handle);
        gl.FramebufferTexture2D(FramebufferTarget.Framebuffer, FramebufferAttachment.ColorAttachment0,
            TextureTarget.Texture2D, _colour.Handle, 0);
        var status = gl.CheckFramebufferStatus(FramebufferTarget.Framebuffer);
        if (status != GLEnum.FramebufferComplete)
            throw new InvalidOperationException($"framebuffer incomplete: {status}");
    }

    public void Bind()
    {
        Gl.BindFramebuffer(FramebufferTarget.Framebuffer, Handle);
        Gl.Viewport(0, 0, (uint)Width, (uint)Height);
    }

    /// <summary>The pixels as a new BGR image; row 0 of the image is row 0 of the framebuffer.</summary>
    public Mat ReadBgr()
    {
        var image = new Mat();
        ReadBgr(image);
        return image;
    }

    /// <summary>Reads the pixels into <paramref name="image"/>, reallocated only when its size or type
    /// differs.</summary>
    public unsafe void ReadBgr(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Bind();
        image.Create(Height, Width, MatType.CV_8UC3);
        Gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
        Gl.ReadPixels(0, 0, (uint)Width, (uint)Height, PixelFormat.Bgr, PixelType.UnsignedByte, (void*)image.Data);
    }

    protected override void Delete()
    {
        Gl.DeleteFramebuffer(Handle);
        _colour.Dispose();
    }
}

/// <summary>A vertex array with one dynamic buffer of interleaved floats, refilled and drawn as triangles.</summary>
public sealed class GlVertexArray : GlObject
{
    readonly uint _buffer;
    int _capacity;

    public GlVertexArray(GL gl) : base(gl)
    {
        Handle = gl.GenVertexArray();
        _buffer = gl.GenBuffer();
    }

    /// <param name="components">Floats per attribute, in attribute order (location 0, 1, ...).</param>
    public unsafe void Draw(ReadOnlySpan<float> data, int floatsPerVertex, int[] components)
    {
        ArgumentNullException.ThrowIfNull(components);
        Gl.BindVertexArray(Handle);
        Gl.BindBuffer(BufferTargetARB.ArrayBuffer, _buffer);
        fixed (float* p = data)
        {
            if (data.Length > _capacity)
            {
                _capacity = data.Length * 2;  // grow geometrically; reallocated only when a frame needs more
                Gl.BufferData(BufferTargetARB.ArrayBuffer, (nuint)(_capacity * sizeof(float)), null,
                    BufferUsageARB.DynamicDraw);
            }
            Gl.BufferSubData(BufferTargetARB.ArrayBuffer, 0, (nuint)(data.Length * sizeof(float)), p);
        }
        int offset = 0;
        for (uint i = 0; i < components.Length; i++)
        {
            Gl.EnableVertexAttribArray(i);
            Gl.VertexAttribPointer(i, components[i], VertexAttribPointerType.Float, false,
                (uint)(floatsPerVertex * sizeof(float)), (void*)(offset * sizeof(float)));
            offset += components[i];
        }
        Gl.DrawArrays(PrimitiveType.Triangles, 0, (uint)(data.Length / floatsPerVertex));
    }

    protected override void Delete()
    {
        Gl.DeleteBuffer(_buffer);
        Gl.DeleteVertexArray(Handle);
    }
}

/// <summary>A vertex array with no buffers: the full-screen triangle is made in the vertex shader.</summary>
public sealed class GlEmptyVertexArray : GlObject
{
    public GlEmptyVertexArray(GL gl) : base(gl) => Handle = gl.GenVertexArray();
    protected override void Delete() => Gl.DeleteVertexArray(Handle);
}

/// <summary>A linked program from shader files; compile and link errors throw with GL's log.</summary>
public sealed class GlShaderProgram : GlObject
{
    readonly Dictionary<string, int> _uniforms = [];

    public GlShaderProgram(GL gl, string vertexPath, string fragmentPath) : base(gl)
    {
        uint vertex = Compile(gl, ShaderType.VertexShader, vertexPath);
        uint fragment = Compile(gl, ShaderType.FragmentShader, fragmentPath);
        Handle = gl.CreateProgram();
        gl.AttachShader(Handle, vertex);
        gl.AttachShader(Handle, fragment);
        gl.LinkProgram(Handle);
        gl.DeleteShader(vertex);
        gl.DeleteShader(fragment);
        gl.GetProgram(Handle, ProgramPropertyARB.LinkStatus, out int linked);
        if (linked == 0)
        {
            var log = gl.GetProgramInfoLog(Handle);
            gl.DeleteProgram(Handle);
            Handle = 0;
            throw new ShaderException(
                $"linking {Path.GetFileName(vertexPath)} + {Path.GetFileName(fragmentPath)} failed: {log}");
        }
    }

    static uint Compile(GL gl, ShaderType type, string path)
    {
        if (!File.Exists(path)) throw new ShaderException($"shader file '{path}' is missing");
        uint shader = gl.CreateShader(type);
        gl.ShaderSource(shader, File.ReadAllText(path));
        gl.CompileShader(shader);
        gl.GetShader(shader, ShaderParameterName.CompileStatus, out int ok);
        if (ok != 0) return shader;
        var log = gl.GetShaderInfoLog(shader);
        gl.DeleteShader(shader);
        throw new ShaderException($"compiling {Path.GetFileName(path)} failed: {log}");
    }

    public void Use() => Gl.UseProgram(Handle);

    int Location(string name)
    {
        if (!_uniforms.TryGetValue(name, out int location))
            _uniforms[name] = location = Gl.GetUniformLocation(Handle, name);
        return location;
    }

    public void Set(string name, int value) => Gl.Uniform1(Location(name), value);
    public void Set(string name, float value) => Gl.Uniform1(Location(name), value);
    public void Set(string name, float x, float y, float z, float w) => Gl.Uniform4(Location(name), x, y, z, w);
    public void Set(string name, float x, float y) => Gl.Uniform2(Location(name), x, y);

    protected override void Delete() => Gl.DeleteProgram(Handle);
}

public sealed class ShaderException : Exception
{
    public ShaderException(string message) : base(message) { }
    public ShaderException(string message, Exception inner) : base(message, inner) { }
    public ShaderException() { }
}
