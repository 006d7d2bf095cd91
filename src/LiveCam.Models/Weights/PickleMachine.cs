using System.Text;

namespace LiveCam.Models.Weights;

/// <summary>
/// A pickle reader that never runs code: it understands the opcodes PyTorch files use, and a global is
/// only ever turned into an inert marker, and only when the caller's allow-list knows it. Anything else
/// fails with the global's name.
/// </summary>
internal sealed class PickleMachine(Stream stream, Func<string, string, object> resolveGlobal,
    Func<object, object> persistentLoad) : IDisposable
{
    /// <summary>Reads one pickle from the stream's current position.</summary>
    public static object? Load(Stream stream, Func<string, string, object> resolveGlobal,
        Func<object, object> persistentLoad)
    {
        using var machine = new PickleMachine(stream, resolveGlobal, persistentLoad);
        return machine.Load();
    }

    public void Dispose() => _in.Dispose();

    readonly BinaryReader _in = new(stream, Encoding.UTF8, leaveOpen: true);
    readonly List<object?> _stack = [];
    readonly Stack<int> _marks = new();
    readonly Dictionary<int, object?> _memo = [];

    /// <summary>An object made by NEWOBJ or by calling a class marker: its class and the state BUILD gave it.</summary>
    public sealed class PyObject(string module, string name, object?[] args)
    {
        public string Module { get; } = module;
        public string Name { get; } = name;
        public object?[] Args { get; } = args;
        public object? State { get; set; }
        public override string ToString() => $"{Module}.{Name}";
    }

    /// <summary>A global the allow-list accepts as a class: calling it makes a <see cref="PyObject"/>.</summary>
    public sealed record ClassMarker(string Module, string Name);

    /// <summary>A global the allow-list accepts as a function with known meaning.</summary>
    public sealed record FunctionMarker(string Module, string Name, Func<object?[], object?> Apply);

    public sealed class PyTuple(object?[] items)
    {
        public object?[] Items { get; } = items;
    }

    public object? Load()
    {
        while (true)
        {
            int op = _in.ReadByte();
            switch (op)
            {
                case 0x80: _in.ReadByte(); break;                                   // PROTO
                case 0x95: _in.ReadInt64(); break;                                  // FRAME
                case '(': _marks.Push(_stack.Count); break;                         // MARK
                case '.': return Pop();                                             // STOP
                case 'N': Push(null); break;                                        // NONE
                case 0x88: Push(true); break;                                       // NEWTRUE
                case 0x89: Push(false); break;                                      // NEWFALSE
                case 'K': Push((long)_in.ReadByte()); break;                        // BININT1
                case 'M': Push((long)_in.ReadUInt16()); break;                      // BININT2
                case 'J': Push((long)_in.ReadInt32()); break;                       // BININT
                case 0x8a: Push(ReadLong(_in.ReadByte())); break;                   // LONG1
                case 'G':                                                           // BINFLOAT (big-endian)
                    Push(BitConverter.Int64BitsToDouble(
                        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(_in.ReadInt64())));
                    break;
                case 'X': Push(ReadString(_in.ReadInt32())); break;                 // BINUNICODE
                case 0x8c: Push(ReadString(_in.ReadByte())); break;                 // SHORT_BINUNICODE
                case 'U': Push(Encoding.Latin1.GetString(ReadBytes(_in.ReadByte()))); break;   // SHORT_BINSTRING
                case 'T': Push(Encoding.Latin1.GetString(ReadBytes(_in.ReadInt32()))); break;  // BINSTRING
                case 'C': Push(ReadBytes(_in.ReadByte())); break;                   // SHORT_BINBYTES
                case 'B': Push(ReadBytes(_in.ReadInt32())); break;                  // BINBYTES
                case ')': Push(new PyTuple([])); break;                             // EMPTY_TUPLE
                case 0x85: Push(new PyTuple([Pop()])); break;                       // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new PyTuple([a, b])); break; }          // TUPLE2
                case 0x87:                                                          // TUPLE3
                {
                    var c = Pop(); var b = Pop(); var a = Pop();
                    Push(new PyTuple([a, b, c]));
                    break;
                }
                case 't': Push(new PyTuple(PopMark())); break;                      // TUPLE
                case '}': Push(new Dictionary<object, object?>()); break;           // EMPTY_DICT
                case 'd': Push(ToDict(PopMark())); break;                           // DICT
                case ']': Push(new List<object?>()); break;                         // EMPTY_LIST
                case 'l': Push(PopMark().ToList()); break;                          // LIST
                case 'a': { var v = Pop(); AsList(Peek()).Add(v); break; }          // APPEND
                case 'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }  // APPENDS
                case 's': { var v = Pop(); var k = Pop(); AsDict(Peek())[Key(k)] = v; break; }  // SETITEM
                case 'u':                                                           // SETITEMS
                {
                    var items = PopMark();
                    var dict = AsDict(Peek());
                    for (int i = 0; i + 1 < items.Length; i += 2) dict[Key(items[i])] = items[i + 1];
                    break;
                }
                case 'q': _memo[_in.ReadByte()] = Peek(); break;                    // BINPUT
                case 'r': _memo[_in.ReadInt32()] = Peek(); break;                   // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;                      // MEMOIZE
                case 'h': Push(Memo(_in.ReadByte())); break;                        // BINGET
                case 'j': Push(Memo(_in.ReadInt32())); break;                       // LONG_BINGET
                case 'c':                                                           // GLOBAL
                {
                    var module = ReadLine();
                    var name = ReadLine();
                    Push(resolveGlobal(module, name));
                    break;
                }
                case 0x93:                                                          // STACK_GLOBAL
                {
                    var name = (string)Pop()!; var module = (string)Pop()!;
                    Push(resolveGlobal(module, name));
                    break;
                }
                case 'Q': Push(persistentLoad(Pop()!)); break;                      // BINPERSID
                case 'R': { var args = (PyTuple)Pop()!; var f = Pop(); Push(Call(f, args.Items)); break; }     // REDUCE
                case 0x81:                                                          // NEWOBJ
                {
                    var args = (PyTuple)Pop()!; var cls = Pop();
                    Push(Call(cls, args.Items));
                    break;
                }
                case 'b':                                                           // BUILD
                {
                    var state = Pop();
                    if (Peek() is PyObject o) o.State = state;
                    // A dict subclass's own attributes, not items: torch.save(model.state_dict()) sets
                    // OrderedDict._metadata so.
                    else if (Peek() is not Dictionary<object, object?>)
                        throw new InvalidDataException($"BUILD on a {Peek()?.GetType().Name ?? "None"}");
                    break;
                }
                case -1: throw new EndOfStreamException("the file ends inside a pickle");
                default:
                    throw new InvalidDataException(
                        $"unsupported pickle opcode 0x{op:x2} at byte {stream.Position - 1}");
            }
        }
    }

    static object? Call(object? callable, object?[] args) => callable switch
    {
        ClassMarker c => new PyObject(c.Module, c.Name, args),
        FunctionMarker f => f.Apply(args),
        _ => throw new InvalidDataException(
            $"the pickle calls a {callable?.GetType().Name ?? "None"}, which is not callable here"),
    };

    static object Key(object? k) => k switch
    {
        null => throw new InvalidDataException("a dictionary key is None"),
        PyTuple t => string.Join(",", t.Items),
        _ => k,
    };

    static Dictionary<object, object?> ToDict(object?[] items)
    {
        var d = new Dictionary<object, object?>();
        for (int i = 0; i + 1 < items.Length; i += 2) d[Key(items[i])] = items[i + 1];
        return d;
    }

    static List<object?> AsList(object? o) =>
        o as List<object?> ?? throw new InvalidDataException("APPEND to a non-list");
    static Dictionary<object, object?> AsDict(object? o) => o switch
    {
        Dictionary<object, object?> d => d,
        PyObject { Name: "OrderedDict" } p =>
            (Dictionary<object, object?>)(p.State ??= new Dictionary<object, object?>()),
        _ => throw new InvalidDataException("SETITEM on a non-dictionary"),
    };

    object? Memo(int key) =>
        _memo.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"pickle memo {key} is not set");

    void Push(object? o) => _stack.Add(o);

    object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new InvalidDataException("pickle stack underflow");

    object? Pop()
    {
        var o = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    object?[] PopMark()
    {
        if (_marks.Count == 0) throw new InvalidDataException("pickle MARK missing");
        int mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    byte[] ReadBytes(int n)
    {
        if (n < 0 || n > 1 << 30) throw new InvalidDataException($"implausible length {n} in the pickle");
        var bytes = _in.ReadBytes(n);
        if (bytes.Length != n) throw new EndOfStreamException("the file ends inside a pickle");
        return bytes;
    }

    string ReadString(int n) => Encoding.UTF8.GetString(ReadBytes(n));

    string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _in.ReadByte();
            if (b < 0) throw new EndOfStreamException("the file ends inside a pickle");
            if (b == '\n') return sb.ToString();
            sb.Append((char)b);
            if (sb.Length > 512) throw new InvalidDataException("a pickle global name is too long");
        }
    }

    object ReadLong(int n)
    {
        var bytes = ReadBytes(n);
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }
}
