using LiveCam.Explain.Methods;

namespace LiveCam.Explain.Tests;

public class MethodCatalogTests
{
    /// <summary>A method's name gives the method back: the booth's attract loop puts back the method chosen before its
    /// tour by name, whatever it was (test-time augmentation and SmoothGrad included).</summary>
    [Fact]
    public void Every_method_comes_back_from_its_own_name()
    {
        var methods = MethodCatalog.Names.Select(MethodCatalog.Create).ToList();
        methods.Add(new AugmentationSmoothing(new GradCam()));
        methods.Add(MethodCatalog.Create("smoothgrad:saliency"));
        methods.Add(new AugmentationSmoothing(MethodCatalog.Create("smoothgrad:guided-backprop")));
        foreach (var method in methods)
        {
            var again = MethodCatalog.Create(method.Name);
            Assert.Equal(method.Name, again.Name);
            Assert.Equal(method.GetType(), again.GetType());
        }
    }

    /// <summary>The other names a line of the catalog lists give that line's method.</summary>
    [Fact]
    public void Every_alias_gives_the_method_of_its_line()
    {
        foreach (var entry in MethodCatalog.All)
            foreach (var alias in entry.Aliases)
                Assert.Equal(entry.Name, MethodCatalog.Create(alias).Name);
    }
}
