using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Models;
using LiveCam.Pipeline.Sinks.Window;

namespace LiveCam.App.Commands.Run;

/// <summary>A way of running live that changes the model and adds keys and HUD lines to the window (teach).</summary>
internal interface ILiveMode : IDisposable
{
    /// <summary>One line for the terminal when the run starts.</summary>
    string Describe();

    /// <summary>The model the run explains, made from the loaded one (which becomes the returned model's, or stays
    /// the caller's).</summary>
    VisionModel Prepare(VisionModel model);

    /// <summary>The mode's keys, given the frame on screen; called on the window's thread.</summary>
    IEnumerable<KeyBinding> Keys(Func<Frame?> onScreen);

    /// <summary>The mode's HUD lines; called on the window's thread.</summary>
    IEnumerable<HudLine> Hud();
}
