import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CALL, IPC_EVENT } from '../transport/contract';

// Exactly window.api = { call, on }: the renderer reaches nothing else of Electron or Node.
contextBridge.exposeInMainWorld('api', {
  call: (method: string, args: unknown) => ipcRenderer.invoke(IPC_CALL, method, args),
  on: (event: string, listener: (payload: unknown) => void) => {
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
});
