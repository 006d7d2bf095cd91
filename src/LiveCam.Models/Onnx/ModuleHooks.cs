using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>Whether anything watches a module's calls. TorchSharp keeps a module's forward hooks in protected
/// dictionaries of <c>HookableModule</c>, read here by reflection; should a TorchSharp version name them otherwise,
/// every module counts as watched (so nothing that hooks could see is skipped).</summary>
internal static class ModuleHooks
{
    static readonly string[] Names = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];
    static readonly ConcurrentDictionary<Type, FieldInfo[]?> s_fields = new();

    public static bool Watched(nn.Module module)
    {
        var fields = s_fields.GetOrAdd(module.GetType(), Find);
        if (fields is null) return true;
        foreach (var field in fields)
            if (field.GetValue(module) is not ICollection hooks || hooks.Count > 0) return true;
        return false;
    }

    static FieldInfo[]? Find(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || t.GetGenericTypeDefinition() != typeof(nn.HookableModule<,>)) continue;
            var fields = Names.Select(n => t.GetField(n, BindingFlags.Instance | BindingFlags.NonPublic))
                .OfType<FieldInfo>().ToArray();
            return fields.Length == Names.Length ? fields : null;
        }
        return null;
    }
}
