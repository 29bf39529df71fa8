using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;

// A minimal xunit v2 runner for machines with the .NET runtime but no SDK (the GPU machine, where `dotnet test` is not
// available). It loads a test assembly with its dependencies, runs every [Fact]/[Theory] (including Xunit.SkippableFact's)
// of the public test classes, with their InlineData/MemberData, and prints one line per test and a summary. Usage:
//   dotnet DeviceTestRunner.dll path/to/Tests.dll [name-filter]
// Exit code: 0 when nothing failed.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: DeviceTestRunner <test assembly> [substring of Class.Method to run]");
    return 2;
}

string path = Path.GetFullPath(args[0]);
string? filter = args.Length > 1 ? args[1] : null;
var resolver = new AssemblyDependencyResolver(path);
AssemblyLoadContext.Default.Resolving += (context, name) => resolver.ResolveAssemblyToPath(name) is { } p ? context.LoadFromAssemblyPath(p) : null;
var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);

int passed = 0, failed = 0, skipped = 0;
foreach (var type in assembly.GetExportedTypes().Where(t => t.IsClass && !t.IsAbstract).OrderBy(t => t.FullName, StringComparer.Ordinal))
{
    foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
    {
        var fact = method.GetCustomAttributes().FirstOrDefault(a => IsA(a.GetType(), "Xunit.FactAttribute"));
        if (fact is null || (filter is not null && !$"{type.Name}.{method.Name}".Contains(filter, StringComparison.Ordinal)))
        {
            continue;
        }

        string? skip = (string?)fact.GetType().GetProperty("Skip")?.GetValue(fact);
        var cases = new List<object?[]>();
        foreach (var data in method.GetCustomAttributes().Where(a => IsA(a.GetType(), "Xunit.Sdk.DataAttribute")))
        {
            var rows = (IEnumerable<object?[]>)data.GetType().GetMethod("GetData", [typeof(MethodInfo)])!.Invoke(data, [method])!;
            cases.AddRange(rows);
        }

        if (cases.Count == 0)
        {
            cases.Add([]);
        }

        foreach (var arguments in cases)
        {
            string name = $"{type.Name}.{method.Name}({string.Join(", ", arguments)})";
            if (skip is not null)
            {
                skipped++;
                Console.WriteLine($"SKIP {name}: {skip}");
                continue;
            }

            var clock = Stopwatch.StartNew();
            object? instance = null;
            try
            {
                instance = Activator.CreateInstance(type);
                method.Invoke(instance, arguments);
                passed++;
                Console.WriteLine($"PASS {name} [{clock.Elapsed.TotalMilliseconds:F0} ms]");
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner && IsA(inner.GetType(), "Xunit.SkipException"))
            {
                skipped++;
                Console.WriteLine($"SKIP {name}: {inner.Message}");
            }
            catch (TargetInvocationException e)
            {
                failed++;
                Console.WriteLine($"FAIL {name}: {e.InnerException}");
            }
            finally
            {
                (instance as IDisposable)?.Dispose();
            }
        }
    }
}

Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
return failed == 0 ? 0 : 1;

static bool IsA(Type? type, string fullName)
{
    for (; type is not null; type = type.BaseType)
    {
        if (type.FullName == fullName)
        {
            return true;
        }
    }

    return false;
}
