using Microsoft.Extensions.Options;

namespace L4Rt.Bridge;

/// <summary>Starts one <see cref="ImportLink"/> per exporting peer named in <see cref="BridgeOptions.Imports"/>, and stops them.</summary>
internal sealed class Importer(BridgeTask bridge, PeerTrust trust, IOptions<BridgeOptions> options, ILogger<Importer> logger) : IHostedService
{
    private readonly List<ImportLink> _links = [];

    internal IReadOnlyList<ImportLink> Links => _links;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (IGrouping<(string Peer, string Address), ImportRule> peer in options.Value.Imports.GroupBy(r => (r.Peer, r.Address)))
        {
            ImportLink link = new(bridge, trust, options.Value, peer.Key.Peer, peer.Key.Address, peer, logger);
            _links.Add(link);
            await link.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (ImportLink link in _links)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }
}
