// The flow designer's canvas. The Blazor page owns the flow: it sends a view model (nodes with their ports and
// problems, edges) and this island draws it with React Flow, then reports what the designer did (moved, connected,
// deleted, dropped from the palette, selected, keyboard shortcuts). Positions change here while a node is dragged
// and are reported when the drag ends.
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  ReactFlow, ReactFlowProvider, Background, Controls, MiniMap, Handle, Position, MarkerType,
  applyNodeChanges, useReactFlow,
} from "@xyflow/react";
import dagre from "@dagrejs/dagre";
import { vsConsole } from "./console.js";

const GRID = 16;

const FlowNode = memo(function FlowNode({ data, selected }) {
  const classes = ["vs-node", `vs-type-${data.type}`];
  if (selected) classes.push("vs-selected");
  if (data.active) classes.push("vs-active");
  if (data.visited) classes.push("vs-visited");
  if (data.problems.length) classes.push("vs-invalid");
  return (
    <div className={classes.join(" ")} data-node={data.key} data-testid={`node-${data.key}`}
         title={data.problems.length ? data.problems.join("\n") : undefined}>
      <Handle type="target" position={Position.Left} id="in" className="vs-in" />
      <div className="vs-node-head">
        <svg className="vs-icon" viewBox="0 0 24 24" dangerouslySetInnerHTML={{ __html: data.icon }} />
        <span className="vs-type">{data.typeLabel}</span>
        {data.initial && <span className="vs-badge vs-start">start</span>}
        {data.global && <span className="vs-badge">global</span>}
        {data.problems.length > 0 && <span className="vs-badge vs-warn" data-testid={`marker-${data.key}`}>⚠ {data.problems.length}</span>}
      </div>
      <div className="vs-key">{data.key}</div>
      {data.summary && <div className="vs-summary">{data.summary}</div>}
      <div className="vs-ports">
        {data.ports.map((port) => (
          <div key={port.id} className={`vs-port${port.problem ? " vs-port-bad" : ""}`} title={port.problem || port.label}
               data-testid={`port-${data.key}-${port.id}`}>
            <span>{port.label}</span>
            <Handle type="source" position={Position.Right} id={port.id} className="vs-out" />
          </div>
        ))}
      </div>
    </div>
  );
});

const nodeTypes = { flow: FlowNode };

function toNodes(model, previous) {
  const selected = new Set(previous.filter((n) => n.selected).map((n) => n.id));
  return model.nodes.map((n) => ({
    id: n.key,
    type: "flow",
    position: { x: n.x, y: n.y },
    data: { ...n, active: model.active === n.key, visited: (model.visited || []).includes(n.key) },
    selected: selected.has(n.key),
  }));
}

function toEdges(model) {
  return model.edges.map((e) => ({
    id: e.id,
    source: e.source,
    sourceHandle: e.port,
    target: e.target,
    targetHandle: "in",
    label: e.label,
    className: [(model.path || []).includes(e.id) ? "vs-edge-taken" : "", e.problem ? "vs-edge-bad" : ""].join(" "),
    markerEnd: { type: MarkerType.ArrowClosed },
    data: { problem: e.problem },
  }));
}

function Canvas({ host, dotnet }) {
  const [model, setModel] = useState({ nodes: [], edges: [] });
  const [nodes, setNodes] = useState([]);
  const flow = useReactFlow();
  const wrapper = useRef(null);

  useEffect(() => {
    host.setModel = (m) => {
      setModel(m);
      setNodes((previous) => toNodes(m, previous));
    };
    host.fit = () => {
      // Fit once every node has been measured (a big flow takes a few frames), or after 2 s regardless.
      const until = performance.now() + 2000;
      const attempt = () => {
        const all = flow.getNodes();
        const expected = host.model?.nodes.length ?? 0;
        const measured = all.length === expected && all.every((n) => n.measured?.width);
        if (measured || performance.now() > until) {
          if (all.length) flow.fitView({ padding: 0.15, duration: 0, maxZoom: 1 });
          // Tells whoever waits (the browser tests) that the view settled: the count of fits so far.
          const canvas = wrapper.current?.parentElement;
          if (canvas) canvas.dataset.fitted = String(Number(canvas.dataset.fitted || 0) + 1);
        } else requestAnimationFrame(attempt);
      };
      requestAnimationFrame(attempt);
    };
    host.layout = () => layout(host, dotnet);
    host.nodesNow = () => flow.getNodes();
    host.ready?.();
  }, [host, flow, dotnet]);

  const edges = useMemo(() => toEdges(model), [model]);

  const onNodesChange = useCallback((changes) => {
    // Only local, visual changes: positions while dragging, dimensions, selection. Removal goes through C#.
    setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), current));
  }, []);

  const onNodeDragStop = useCallback((_, __, dragged) => {
    dotnet.invokeMethodAsync("OnNodesMoved", dragged.map((n) => ({
      key: n.id, x: Math.round(n.position.x), y: Math.round(n.position.y),
    })));
  }, [dotnet]);

  const onConnect = useCallback((c) => {
    if (c.source && c.target && c.sourceHandle) dotnet.invokeMethodAsync("OnConnect", c.source, c.sourceHandle, c.target);
  }, [dotnet]);

  const onBeforeDelete = useCallback(async ({ nodes: gone, edges: cut }) => {
    dotnet.invokeMethodAsync("OnDelete", gone.map((n) => n.id), cut.map((e) => e.id));
    return false; // the page deletes and sends the new model
  }, [dotnet]);

  const onSelectionChange = useCallback(({ nodes: picked, edges: pickedEdges }) => {
    dotnet.invokeMethodAsync("OnSelection", picked.map((n) => n.id), pickedEdges.map((e) => e.id));
  }, [dotnet]);

  const onDrop = useCallback((event) => {
    const type = event.dataTransfer.getData("application/x-voicestudio-node");
    if (!type) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    dotnet.invokeMethodAsync("OnDropNode", type, Math.round(at.x / GRID) * GRID, Math.round(at.y / GRID) * GRID);
  }, [flow, dotnet]);

  const onDragOver = useCallback((event) => {
    if (event.dataTransfer.types.includes("application/x-voicestudio-node")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  }, []);

  // Shortcuts work anywhere on the page except in text fields: after a delete the focused node is gone and focus
  // falls back to the body, which must not lose Ctrl+Z.
  useEffect(() => {
    const onKeyDown = (event) => {
      if (event.target.closest?.("input, textarea, select, [contenteditable], .mud-dialog")) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      let command = null;
      if (mod && key === "z") command = event.shiftKey ? "redo" : "undo";
      else if (mod && key === "y") command = "redo";
      else if (mod && key === "c") command = "copy";
      else if (mod && key === "v") command = "paste";
      if (command) {
        event.preventDefault();
        dotnet.invokeMethodAsync("OnCommand", command);
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [dotnet]);

  return (
    <div ref={wrapper} className="vs-canvas" tabIndex={0} onDrop={onDrop} onDragOver={onDragOver}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onNodeDragStop={onNodeDragStop}
        onSelectionDragStop={onNodeDragStop}
        onConnect={onConnect}
        onBeforeDelete={onBeforeDelete}
        onSelectionChange={onSelectionChange}
        snapToGrid
        snapGrid={[GRID, GRID]}
        deleteKeyCode={["Delete", "Backspace"]}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        minZoom={0.1}
        maxZoom={2}
        defaultViewport={{ x: 24, y: 24, zoom: 0.8 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={GRID} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeStrokeWidth={3}
                 nodeColor={(n) => (n.data.active ? "#ef5350" : n.data.problems.length ? "#ffb300" : "#7986cb")} />
      </ReactFlow>
    </div>
  );
}

function layout(host, dotnet) {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 32, ranksep: 96 });
  graph.setDefaultEdgeLabel(() => ({}));
  const nodes = host.nodesNow();
  for (const n of nodes) {
    graph.setNode(n.id, { width: n.measured?.width ?? 220, height: n.measured?.height ?? 120 });
  }
  for (const e of host.model?.edges ?? []) graph.setEdge(e.source, e.target);
  dagre.layout(graph);
  const moved = nodes.map((n) => {
    const p = graph.node(n.id);
    return { key: n.id, x: Math.round((p.x - p.width / 2) / GRID) * GRID, y: Math.round((p.y - p.height / 2) / GRID) * GRID };
  });
  dotnet.invokeMethodAsync("OnNodesMoved", moved).then(() => setTimeout(() => host.fit(), 50));
}

const hosts = new Map();

window.vsDesigner = {
  mount(elementId, dotnet) {
    const element = document.getElementById(elementId);
    if (!element || hosts.has(elementId)) return;
    const host = { root: createRoot(element) };
    host.whenReady = new Promise((resolve) => { host.ready = resolve; });
    hosts.set(elementId, host);
    host.root.render(<ReactFlowProvider><Canvas host={host} dotnet={dotnet} /></ReactFlowProvider>);
  },
  async update(elementId, model, fit) {
    const host = hosts.get(elementId);
    if (!host) return;
    await host.whenReady;
    host.model = model;
    host.setModel(model);
    if (fit) host.fit();
  },
  async layout(elementId) {
    const host = hosts.get(elementId);
    if (host) { await host.whenReady; host.layout(); }
  },
  async fit(elementId) {
    const host = hosts.get(elementId);
    if (host) { await host.whenReady; host.fit(); }
  },
  dispose(elementId) {
    const host = hosts.get(elementId);
    if (!host) return;
    hosts.delete(elementId);
    host.root.unmount();
  },
};

window.vsConsole = vsConsole;
