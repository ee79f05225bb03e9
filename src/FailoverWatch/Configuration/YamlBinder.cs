using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace FailoverWatch.Configuration;

/// <summary>
/// Binds a YAML tree onto the options classes, reporting every unknown key and badly typed value
/// with its full path (<c>cluster.nodes[1].port</c>) instead of stopping at the first.
/// The options classes are the schema: the binder reflects over their public properties. The published
/// binary is trimmed, so the csproj roots this assembly (TrimmerRootAssembly) and every options class,
/// including ones added later, keeps its properties and constructor without being registered anywhere.
/// </summary>
internal sealed class YamlBinder
{
    private const string RootedAssembly = "Options classes live in this assembly, which the csproj roots whole (TrimmerRootAssembly): their properties and constructors are never trimmed.";

    private readonly List<ConfigProblem> _problems = [];

    public IReadOnlyList<ConfigProblem> Problems => _problems;

    public T Bind<T>(YamlMappingNode root)
        where T : new()
    {
        var target = new T();
        BindObject(root, target, "");
        return target;
    }

    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = RootedAssembly)]
    private void BindObject(YamlMappingNode mapping, object target, string path)
    {
        var properties = target.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .ToDictionary(p => SnakeCase(p.Name), StringComparer.Ordinal);

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var keyPath = path.Length == 0 ? key : $"{path}.{key}";
            if (!properties.TryGetValue(key, out var property))
            {
                _problems.Add(new ConfigProblem(keyPath, "unknown key"));
                continue;
            }

            if (TryConvert(valueNode, property.PropertyType, keyPath, out var value))
            {
                property.SetValue(target, value);
            }
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = RootedAssembly)]
    private bool TryConvert(YamlNode node, Type type, string path, out object? value)
    {
        value = null;
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (node is YamlScalarNode { Value: null or "" or "~" or "null" } && IsNullable(type))
        {
            return true;
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(List<>))
        {
            return TryConvertList(node, underlying, path, out value);
        }

        if (underlying.IsClass && underlying != typeof(string))
        {
            if (node is not YamlMappingNode mapping)
            {
                return Fail(path, "expected a mapping of keys");
            }

            value = Activator.CreateInstance(underlying)!;
            BindObject(mapping, value, path);
            return true;
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            return Fail(path, "expected a single value");
        }

        return TryConvertScalar(text, underlying, path, out value);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = RootedAssembly)]
    private bool TryConvertList(YamlNode node, Type listType, string path, out object? value)
    {
        value = null;
        if (node is not YamlSequenceNode sequence)
        {
            return Fail(path, "expected a list");
        }

        var list = (IList)Activator.CreateInstance(listType)!;
        var itemType = listType.GetGenericArguments()[0];
        var index = 0;
        foreach (var item in sequence.Children)
        {
            if (TryConvert(item, itemType, $"{path}[{index}]", out var itemValue))
            {
                list.Add(itemValue);
            }

            index++;
        }

        value = list;
        return true;
    }

    private bool TryConvertScalar(string text, Type type, string path, out object? value)
    {
        value = null;
        if (type == typeof(string))
        {
            value = text;
            return true;
        }

        if (type == typeof(int))
        {
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return Fail(path, $"'{text}' is not a whole number");
            }

            value = number;
            return true;
        }

        if (type == typeof(bool))
        {
            if (!bool.TryParse(text, out var flag))
            {
                return Fail(path, $"'{text}' is not true or false");
            }

            value = flag;
            return true;
        }

        if (type == typeof(TimeSpan))
        {
            if (!Duration.TryParse(text, out var duration))
            {
                return Fail(path, $"'{text}' is not a duration (use 500ms, 5s, 2m, 1h)");
            }

            value = duration;
            return true;
        }

        if (type == typeof(ByteSize))
        {
            if (!ByteSize.TryParse(text, out var size))
            {
                return Fail(path, $"'{text}' is not a size (use 16MB, 512kB, 1GB)");
            }

            value = size;
            return true;
        }

        return Fail(path, $"unsupported setting type {type.Name}");
    }

    private bool Fail(string path, string problem)
    {
        _problems.Add(new ConfigProblem(path, problem));
        return false;
    }

    private static bool IsNullable(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;
}
